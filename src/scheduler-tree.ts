/**
 * The scheduler's supervision settings, in one place (docs/architecture.md "Restarts"): which
 * messages carry owed work (never refused by a full mailbox), and each actor's hang deadline.
 * `src/scheduler.ts` spawns the actors with them.
 */
import type { ExecutorHandlers } from './actors/executor/actor';
import type { MonitorHandlers } from './actors/monitor/actor';
import type { ParserHandlers } from './actors/parser/actor';
import type { PersistenceHandlers } from './actors/persistence/actor';
import type { QueueHandlers } from './actors/queue/actor';
import type { SchedulerHandlers } from './actors/scheduler/engine';
import type { TriggerHandlers } from './actors/triggers/actor';
import { actorModule, type MessageType } from './runtime/types';

/**
 * Messages that carry work the scheduler already accepted: a popped slot, a finished run, a
 * commit's outcome, a timeline change, a cancel. Refusing one for a full mailbox would lose it
 * (a slot never recorded, a run never final, a job never re-armed), so they pass the bound
 * (`unbounded`). Their number is bounded by the scheduler's own state, not by callers: due
 * entries ≤ armed jobs (the timer pops an entry once; the job is re-armed only when its slot is
 * handled), results and hand-overs to the executor ≤ runs in flight (≤ maxConcurrentJobs), commits in
 * flight ≤ 2. API calls and
 * trigger fires (input from outside) keep the bound: refused with MAILBOX_FULL.
 */
export const OWED = {
  scheduler: ['slotsDue', 'runsFinished', 'committed', 'commitRetry', 'startFailed', 'finalOutcome', 'rearm', 'executorLost', 'forgetJob'] satisfies Array<MessageType<SchedulerHandlers>>,
  queue: ['armMany', 'arm', 'disarm'] satisfies Array<MessageType<QueueHandlers>>,
  executor: ['startMany', 'cancel'] satisfies Array<MessageType<ExecutorHandlers>>,
  triggers: ['set', 'remove', 'clear', 'stop'] satisfies Array<MessageType<TriggerHandlers>>,
};

/**
 * Hang deadline of a main-thread actor's message and of the parser's (real time): 4× the longest
 * ask a handler makes (30 s step and ask timeouts), so only a handler that is stuck — a promise
 * that never settles, a busy parser thread — passes it. Past it the actor is restarted.
 */
export const HANG_AFTER_MS = 120_000;

/** The persistence thread's deadline: a single store read or write stuck this long is a stuck store. */
export const STORE_HANG_AFTER_MS = 600_000;

/** Messages whose time grows with the store or a grace period: no deadline. */
const UNBOUNDED_TIME = {
  scheduler: ['reload', 'load'] satisfies Array<MessageType<SchedulerHandlers>>,
  executor: ['close'] satisfies Array<MessageType<ExecutorHandlers>>,
  persistence: ['backup', 'restore', 'prune', 'listJobs', 'counts', 'unfinishedRuns', 'listUnfinishedRuns', 'close'] satisfies Array<MessageType<PersistenceHandlers>>,
  triggers: ['stop'] satisfies Array<MessageType<TriggerHandlers>>,
  monitor: [] as Array<MessageType<MonitorHandlers>>,
  parser: [] as Array<MessageType<ParserHandlers>>,
  queue: [] as Array<MessageType<QueueHandlers>>,
};

/** The hang deadline function of actor `actor` (`baseMs` overrides the default, for tests; `loading`: see below). */
export function hangAfter(actor: keyof typeof UNBOUNDED_TIME, baseMs?: number, loading?: () => boolean): (type: string) => number {
  const exempt = new Set<string>(UNBOUNDED_TIME[actor]);
  const ms = baseMs ?? (actor === 'persistence' ? STORE_HANG_AFTER_MS : HANG_AFTER_MS);
  // `loading`: the actor's start-up is under way, and a message delivered meanwhile waits for it
  // first — for as long as the store takes to load (a million jobs on a cold disk: minutes), so it
  // has no deadline. Start-up itself is bounded by the ready() timeout, not by this watchdog.
  return (type) => (exempt.has(type) || loading?.() === true ? Infinity : ms);
}

/**
 * The engine's subtree, under the root (docs/architecture.md "Restarts"):
 *
 * ```
 * engine (rest_for_one)          the scheduler first: the queue's timeline and the executor's runs
 *   scheduler                    are state it handed out; when it restarts they restart with it
 *   workers (one_for_one)        each rebuilt alone from the scheduler's memory (rearm,
 *     queue                      executorLost) — neither needs the other, nor the scheduler, to
 *     executor                   restart
 * ```
 *
 * Inner groups give up sooner than the root (3 restarts in 10 s each, the root 5): a fault that a
 * member's restart does not cure becomes a restart of the bigger unit, then of the daemon.
 */
export const ENGINE_GROUP = { name: 'engine', strategy: 'rest_for_one', intensity: { maxRestarts: 3, periodMs: 10_000 } } as const;
/** See {@link ENGINE_GROUP}. */
export const WORKERS_GROUP = { name: 'workers', strategy: 'one_for_one', intensity: { maxRestarts: 3, periodMs: 10_000 } } as const;

/**
 * The order of actor starts, to tell a member restarted alone from one restarted with the
 * scheduler: a queue or executor that restarts alone is rebuilt from the scheduler's memory
 * (`rearm`, `executorLost`); one restarted with the scheduler (rest_for_one) is rebuilt by the new
 * scheduler's start-up, which never handed anything to the old one.
 */
export class RestartOrder {
  #seq = 0;
  readonly #last = new Map<string, number>();

  /** Notes a start of `actor`; true if `owner` has (re)started since `actor`'s previous start. */
  startedAfter(actor: string, owner: string): boolean {
    const prev = this.#last.get(actor) ?? 0;
    this.#last.set(actor, ++this.#seq);
    return (this.#last.get(owner) ?? 0) > prev;
  }
}

/** The thread actors' logic, by module (the runtime's generic worker entry loads it). */
export const persistenceLogic = actorModule<typeof import('./actors/persistence/actor')>(require.resolve('./actors/persistence/actor')).logic('createPersistenceHandlers');
export const parserLogic = actorModule<typeof import('./actors/parser/actor')>(require.resolve('./actors/parser/actor')).logic('createParserHandlers');
/** The actors whose placement is configuration: the same logic runs on the main thread or in a thread. */
export const executorLogic = actorModule<typeof import('./actors/executor/actor')>(require.resolve('./actors/executor/actor')).logic('createExecutorHandlers');
export const monitorLogic = actorModule<typeof import('./actors/monitor/actor')>(require.resolve('./actors/monitor/actor')).logic('createMonitorHandlers');
export const triggersLogic = actorModule<typeof import('./actors/triggers/actor')>(require.resolve('./actors/triggers/actor')).logic('createTriggerHandlers');
export const queueLogic = actorModule<typeof import('./actors/queue/actor')>(require.resolve('./actors/queue/actor')).logic('createQueueHandlers');
