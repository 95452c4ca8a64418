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
import type { MessageType } from './runtime/types';

/**
 * Messages that carry work the scheduler already accepted: a popped slot, a finished run, a
 * commit's outcome, a timeline change, a cancel. Refusing one for a full mailbox would lose it
 * (a slot never recorded, a run never final, a job never re-armed), so they pass the bound
 * (`unbounded`). Their number is bounded by the scheduler's own state, not by callers: due
 * entries ≤ armed jobs (the timer pops an entry once; the job is re-armed only when its slot is
 * handled), results ≤ runs in flight (≤ maxConcurrentJobs), commits in flight ≤ 2. API calls and
 * trigger fires (input from outside) keep the bound: refused with MAILBOX_FULL.
 */
export const OWED = {
  scheduler: ['slotsDue', 'runsFinished', 'committed', 'commitRetry', 'startFailed', 'finalOutcome', 'rearm', 'executorLost', 'forgetJob'] satisfies Array<MessageType<SchedulerHandlers>>,
  queue: ['armMany', 'arm', 'disarm'] satisfies Array<MessageType<QueueHandlers>>,
  executor: ['cancel'] satisfies Array<MessageType<ExecutorHandlers>>,
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

/** The hang deadline function of actor `actor` (`baseMs` overrides the default, for tests). */
export function hangAfter(actor: keyof typeof UNBOUNDED_TIME, baseMs?: number): (type: string) => number {
  const exempt = new Set<string>(UNBOUNDED_TIME[actor]);
  const ms = baseMs ?? (actor === 'persistence' ? STORE_HANG_AFTER_MS : HANG_AFTER_MS);
  return (type) => (exempt.has(type) ? Infinity : ms);
}
