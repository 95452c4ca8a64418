/**
 * The ActorSystem: spawns actors (main thread or worker thread) under one root supervisor,
 * publishes runtime events, and tells a VirtualClock when all mailboxes are quiet. Everything lives
 * on the instance: two systems in one process do not share anything.
 */
import type { ResourceLimits } from 'node:worker_threads';
import type { Observable } from 'rxjs';
import { ConflictError, ValidationError } from '../errors';
import type { Logger } from '../api';
import { ActorCell } from './actor-cell';
import type { BackoffOptions } from './backoff';
import type { Clock } from './clock';
import { EventBus } from './event-bus';
import { MainIncarnation, type Incarnation } from './incarnation';
import { Supervisor, type ExitReason, type Intensity, type RestartType, type SupervisorEvent } from './supervisor';
import { ThreadIncarnation } from './thread-host';
import { describeError, type ActorRef, type Handlers, type RuntimeEvent } from './types';

/** Options of {@link ActorSystem}. */
export interface ActorSystemOptions {
  clock: Clock;
  /** @default silent */
  logger?: Logger;
  /** Root supervisor's restart intensity. Exceeded: every actor stops and `system.failed` is published. @default { maxRestarts: 5, periodMs: 10000 } */
  intensity?: Partial<Intensity>;
  /** Restart backoff of the root supervisor. @default none (restart at once) */
  backoff?: Partial<BackoffOptions>;
  /** Default ask timeout. @default 30000 */
  askTimeoutMs?: number;
  /** Source of backoff jitter. @default Math.random */
  random?: () => number;
}

/** What every spawn spec shares. */
export interface SpawnCommon {
  /** Unique in the system; used in events, logs and errors. */
  name: string;
  /** Passed to the factory on every (re)start. Must be structured-clonable for thread actors. */
  init?: unknown;
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
  /** Grace for a graceful stop before the actor is killed. @default 5000 */
  shutdownMs?: number;
}

/** Spec of a main-thread actor. */
export interface SpawnSpec<H extends Handlers> extends SpawnCommon {
  factory: (init: any) => H | Promise<H>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Spec of a worker-thread actor. */
export interface SpawnThreadSpec extends SpawnCommon {
  /** Absolute path of a built .js entry that calls exposeActor. */
  workerFile: string;
  resourceLimits?: ResourceLimits;
}

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * @example
 * const system = new ActorSystem({ clock: new SystemClock(), logger });
 * const parser = system.spawnThread<ParserHandlers>({ name: 'parser', workerFile: require.resolve('../workers/parser-thread') });
 * const next = await parser.ask('nextRuns', { schedule: '@daily', count: 3 });
 * await system.stop();
 */
export class ActorSystem {
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #bus: EventBus<RuntimeEvent>;
  readonly #root: Supervisor;
  readonly #cells = new Map<string, ActorCell<Handlers>>();
  readonly #lastExit = new Map<string, string>();
  readonly #askTimeoutMs: number;
  #stopped = false;
  /** Runtime events: actor.started / crashed / restarted / failed / stopped, mailbox.refused, system.failed. */
  readonly events$: Observable<RuntimeEvent>;

  constructor(opts: ActorSystemOptions) {
    this.#clock = opts.clock;
    this.#logger = opts.logger ?? silent;
    this.#askTimeoutMs = opts.askTimeoutMs ?? 30_000;
    if (!(this.#askTimeoutMs > 0)) throw new ValidationError(`askTimeoutMs must be > 0, got ${this.#askTimeoutMs}`, 'askTimeoutMs');
    this.#bus = new EventBus<RuntimeEvent>({
      onSubscriberError: (err) => this.#logger.error({ err: describeError(err) }, 'runtime event subscriber threw'),
    });
    this.events$ = this.#bus.events$;
    this.#root = new Supervisor([], {
      name: 'root', clock: opts.clock, strategy: 'one_for_one',
      intensity: { maxRestarts: 5, periodMs: 10_000, ...opts.intensity },
      backoff: opts.backoff, random: opts.random,
      onEvent: (e) => this.#onSupervisorEvent(e),
    });
    void this.#root.start();
    void this.#root.exited.then((r) => this.#onRootExit(r));
  }

  /** Actor on the main thread. `factory` runs on every (re)start; its handlers get one message at a time. */
  spawn<H extends Handlers>(spec: SpawnSpec<H>): ActorRef<H> {
    if (typeof spec.factory !== 'function') throw new ValidationError(`actor '${spec.name}': factory must be a function`, 'factory');
    return this.#spawn<H>(spec, () => MainIncarnation.start(spec.name, spec.factory as (init: unknown) => Handlers, spec.init));
  }

  /**
   * Same behaviour hosted in its own worker_threads Worker, bridged with Comlink. The main side
   * keeps the mailbox and forwards one message at a time; a dead worker fails its in-flight call
   * with ActorDeadError at once and is restarted (new Worker, factory runs again with `init`).
   */
  spawnThread<H extends Handlers>(spec: SpawnThreadSpec): ActorRef<H> {
    if (typeof spec.workerFile !== 'string' || !spec.workerFile.startsWith('/')) {
      throw new ValidationError(`actor '${spec.name}': workerFile must be an absolute path to a built .js file, got ${String(spec.workerFile)}`, 'workerFile');
    }
    return this.#spawn<H>(spec, () => ThreadIncarnation.start({ name: spec.name, workerFile: spec.workerFile, init: spec.init, resourceLimits: spec.resourceLimits }));
  }

  /**
   * Resolves once no actor has a message queued or in flight and no actor is starting. Actors
   * waiting out a restart backoff do not count (that wait is on the clock). Register it with
   * `virtualClock.addSettler(() => system.quiescent())`.
   */
  async quiescent(): Promise<void> {
    for (;;) {
      const busy = [...this.#cells.values()].filter((c) => c.busy);
      if (busy.length === 0) {
        // One more turn: a finishing handler may have just sent another message.
        await new Promise<void>((r) => setImmediate(r));
        if (![...this.#cells.values()].some((c) => c.busy)) return;
        continue;
      }
      await Promise.race(busy.map((c) => c.changed()));
    }
  }

  /** Stops every actor in reverse start order (each within its shutdownMs). Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#root.stop();
    for (const c of this.#cells.values()) c.markStopped();
    this.#bus.complete();
  }

  /** Root supervisor's view of its children. @internal for diagnostics and tests. */
  children(): Array<{ id: string; running: boolean; restarts: number }> {
    return this.#root.children();
  }

  #spawn<H extends Handlers>(spec: SpawnCommon, start: () => Promise<Incarnation>): ActorRef<H> {
    if (typeof spec.name !== 'string' || spec.name === '') throw new ValidationError('actor name must be a non-empty string', 'name');
    if (this.#stopped) throw new ValidationError(`actor system is stopped; cannot spawn '${spec.name}'`, 'name');
    if (this.#cells.has(spec.name)) throw new ConflictError(`an actor named '${spec.name}' already exists`);
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
    const cell = new ActorCell<H>({
      name: spec.name, clock: this.#clock, logger: this.#logger, mailboxSize, stashSize, concurrency,
      askTimeoutMs: this.#askTimeoutMs, publish: (e) => this.#bus.publish(e),
    });
    this.#cells.set(spec.name, cell as unknown as ActorCell<Handlers>);
    this.#root.addChild({
      id: spec.name, start: cell.childStart(start), restart: spec.restart, shutdownMs: spec.shutdownMs,
    }).catch((err: unknown) => {
      // As OTP's start_child: a first start that fails is not retried.
      this.#logger.error({ actor: spec.name, err: describeError(err) }, 'actor failed to start');
    });
    return cell;
  }

  #onSupervisorEvent(e: SupervisorEvent): void {
    const at = new Date(this.#clock.now()).toISOString();
    switch (e.type) {
      case 'child.started':
        if (e.restart) {
          const reason = this.#lastExit.get(e.id) ?? 'restart';
          this.#bus.publish({ type: 'actor.restarted', at, actor: e.id, reason });
          this.#logger.info({ actor: e.id, reason }, 'actor restarted');
        } else {
          this.#bus.publish({ type: 'actor.started', at, actor: e.id });
        }
        return;
      case 'child.exited': {
        const reason = e.reason.normal ? 'exited normally' : describeError(e.reason.error);
        this.#lastExit.set(e.id, reason);
        if (!e.reason.normal) {
          this.#bus.publish({ type: 'actor.crashed', at, actor: e.id, reason });
          this.#logger.warn({ actor: e.id, reason }, 'actor crashed');
        }
        return;
      }
      case 'child.start_failed':
        this.#lastExit.set(e.id, `start failed: ${describeError(e.error)}`);
        return;
      case 'child.terminated': {
        this.#cells.get(e.id)?.markStopped();
        this.#cells.delete(e.id);
        if (e.why === 'shutdown') this.#bus.publish({ type: 'actor.stopped', at, actor: e.id });
        else if (e.why === 'escalated' || e.why === 'start_failed' || this.#lastExit.get(e.id) !== 'exited normally') {
          this.#bus.publish({ type: 'actor.failed', at, actor: e.id, reason: this.#lastExit.get(e.id) ?? e.why });
        } else {
          this.#bus.publish({ type: 'actor.stopped', at, actor: e.id });
        }
        this.#lastExit.delete(e.id);
        return;
      }
      default:
        return;
    }
  }

  #onRootExit(r: ExitReason): void {
    if (r.normal) return;
    this.#stopped = true;
    const reason = describeError(r.error);
    this.#logger.error({ reason }, 'actor system failed: root supervisor gave up');
    this.#bus.publish({ type: 'system.failed', at: new Date(this.#clock.now()).toISOString(), reason });
  }
}
