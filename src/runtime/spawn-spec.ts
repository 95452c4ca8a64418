/**
 * What the ActorSystem is asked to spawn: the spawn specs (an actor from a factory function, or
 * from module logic at a placement), the group specs of the supervision tree, and their checks —
 * the system's input contract, apart from the system that runs it.
 */
import type { ResourceLimits } from 'node:worker_threads';
import { ValidationError } from '../errors';
import type { BackoffOptions } from './backoff';
import type { Intensity, RestartType, Strategy } from './supervisor';
import type {
  ActorContext, ActorLogic, Handlers, InitOf, PeerMap, PeersOf, Placement, UnexpectedErrorPolicy,
} from './types';

/** A nested supervisor of the system ({@link ActorSystem.group}). */
export interface GroupSpec {
  /** Unique among actors and groups. */
  name: string;
  strategy: Strategy;
  /** @default the Supervisor's: 1 restart in 5000 ms */
  intensity?: Partial<Intensity>;
  backoff?: Partial<BackoffOptions>;
  /** The group it belongs to. @default the root */
  parent?: GroupRef;
}

/** A handle on a group: pass it as `group` in spawn specs (or `parent` of a group). */
export interface GroupRef {
  readonly name: string;
}

/** The supervision tree, as {@link ActorSystem.tree} shows it. */
export type TreeNode =
  | { id: string; kind: 'group'; strategy: Strategy; children: TreeNode[] }
  | { id: string; kind: 'actor'; running: boolean; restarts: number };


/** What every spawn spec shares. */
export interface SpawnCommon {
  /** Unique in the system; used in events, logs and errors. */
  name: string;
  /** Messages waiting + in flight before new ones are refused (MailboxFullError). @default 1000 */
  mailboxSize?: number;
  /** Messages accepted while the actor restarts, before new ones are refused. @default mailboxSize */
  stashSize?: number;
  /**
   * Messages handled at once. 1 (the default) is the actor model's one-at-a-time mailbox; more
   * suits an actor whose handlers are independent and mostly wait on I/O — the persistence thread
   * lets several commits be in flight so lmdb batches them into one flush. Handlers of such an
   * actor must not rely on running alone. @default 1
   */
  concurrency?: number;
  /** @default 'permanent' */
  restart?: RestartType;
  /** The supervisor group it is a child of ({@link ActorSystem.group}). @default the root */
  group?: GroupRef;
  /** Grace for a graceful stop before the actor is killed. @default 5000 */
  shutdownMs?: number;
  /** `crash`: an unexpected (non-SchedulerError) handler error crashes the actor ("let it crash"). @default 'reject' */
  onUnexpectedError?: UnexpectedErrorPolicy;
  /**
   * Message types that are never refused for a full mailbox or restart stash: messages carrying
   * work the system already accepted (a popped slot, a finished run, a commit's outcome), whose
   * number is bounded by the system's own state (armed jobs, runs in flight), not by callers.
   * Refusing one would lose that work. They still count towards the bound, so messages from
   * outside are refused the sooner. Never list a type outside callers can send. @default none
   */
  unbounded?: readonly string[];
  /**
   * Query message types: read-only questions answered beside the mailbox. A query runs as soon as
   * every other message received before it has finished — it sees their effects (happens-before),
   * whatever the placement — beside other queries, and it holds back neither later messages nor
   * other queries (one that waits on a slow peer delays only its own answer). Handlers of queries
   * must not change state that the ordered messages rely on, and may see the effects of messages
   * received after them (a later message can run while a query waits). @default none
   */
  queries?: readonly string[];
  /**
   * Hang deadline, real time: a message still in flight after this many ms crashes the
   * incarnation as hung ('actor.hung' event), its asker gets ActorDeadError and the supervisor
   * restarts it. A number for every message type, or a function of the type (Infinity: none).
   * @default Infinity (no watchdog)
   */
  hangAfterMs?: number | ((type: string) => number);
  /**
   * Start deadline, real time: a start (the factory; for a thread also the worker's boot and
   * module load) still running after this many ms is ended — a thread's worker is terminated, a
   * main-thread factory abandoned (its late result stopped) — and counts as a failed start: a
   * first start fails the actor (`actor.failed`), a restart is retried with backoff and counts
   * towards the supervisor's intensity. Infinity: none. @default the system's (120000)
   */
  startTimeoutMs?: number;
}

/** Spec of a main-thread actor built by a function (closures welcome; it cannot move to a thread). */
export interface SpawnSpec<H extends Handlers> extends SpawnCommon {
  factory: (init: never, ctx: ActorContext<never>) => H | Promise<H>;
  /** Passed to the factory on every (re)start. */
  init?: unknown;
  /** Refs given to the factory in `ctx.peers`; a function is called at every (re)start. */
  peers?: PeerMap | (() => PeerMap);
}

/**
 * Spec of an actor whose factory is a module export ({@link actorModule}): it runs on the main
 * thread or in its own worker thread, by configuration. `init` and `peers` are checked against the
 * factory's parameter types.
 */
export interface LogicSpawnSpec<F> extends SpawnCommon {
  logic: ActorLogic<F>;
  /** @default 'main' */
  placement?: Placement;
  /** Passed to the factory on every (re)start. Structured-clonable (it may cross to a thread). */
  init?: InitOf<F>;
  /** Refs to other actors (any placement), given to the factory in `ctx.peers`; a function is called at every (re)start. */
  peers?: PeersOf<F> | (() => PeersOf<F>);
  /** V8 heap limits of the worker (placement 'thread' only). */
  resourceLimits?: ResourceLimits;
  /**
   * Keep one spare worker booted with the module loaded (placement 'thread' only), so a restart
   * skips the worker boot and module load: one idle thread more, for a much faster recovery.
   * @default false
   */
  standby?: boolean;
}

/** A spawn spec's mailbox numbers and hang deadline, checked and filled. @internal */
export interface CellBounds {
  mailboxSize: number;
  stashSize: number;
  concurrency: number;
  hangAfterMs: (type: string) => number;
  /** undefined: the system's default. */
  startTimeoutMs?: number;
}

/** Checks what every spawn spec shares; throws a ValidationError naming the actor and the field. @internal */
export function checkSpawnCommon(spec: SpawnCommon): CellBounds {
  if (typeof spec.name !== 'string' || spec.name === '') throw new ValidationError('actor name must be a non-empty string', 'name');
  const mailboxSize = spec.mailboxSize ?? 1000;
  if (!Number.isInteger(mailboxSize) || mailboxSize < 1) {
    throw new ValidationError(`actor '${spec.name}': mailboxSize must be an integer >= 1, got ${mailboxSize}`, 'mailboxSize');
  }
  const stashSize = spec.stashSize ?? mailboxSize;
  if (!Number.isInteger(stashSize) || stashSize < 0) {
    throw new ValidationError(`actor '${spec.name}': stashSize must be an integer >= 0, got ${stashSize}`, 'stashSize');
  }
  const concurrency = spec.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ValidationError(`actor '${spec.name}': concurrency must be an integer >= 1, got ${concurrency}`, 'concurrency');
  }
  const startTimeoutMs = spec.startTimeoutMs;
  if (startTimeoutMs !== undefined && !(startTimeoutMs > 0)) {
    throw new ValidationError(`actor '${spec.name}': startTimeoutMs must be > 0, got ${startTimeoutMs}`, 'startTimeoutMs');
  }
  return {
    mailboxSize, stashSize, concurrency, hangAfterMs: hangDeadline(spec.name, spec.hangAfterMs),
    ...(startTimeoutMs !== undefined ? { startTimeoutMs } : {}),
  };
}

/** The spec's unexpected-error policy, checked. @internal */
export function checkPolicy(spec: SpawnCommon): UnexpectedErrorPolicy {
  const policy = spec.onUnexpectedError ?? 'reject';
  if (policy !== 'reject' && policy !== 'crash') {
    throw new ValidationError(`actor '${spec.name}': onUnexpectedError must be 'reject' or 'crash', got ${String(policy)}`, 'onUnexpectedError');
  }
  return policy;
}

/** The hang deadline function of a spawn spec, checked. */
function hangDeadline(name: string, h: SpawnCommon['hangAfterMs']): (type: string) => number {
  if (h === undefined) return () => Infinity;
  if (typeof h === 'function') return h;
  if (!(h > 0)) throw new ValidationError(`actor '${name}': hangAfterMs must be > 0, got ${h}`, 'hangAfterMs');
  return () => h;
}

