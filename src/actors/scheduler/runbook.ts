/**
 * The life of runs after they exist: waiting in the ready queue, held behind a running run of the
 * same job, executing, finishing, retried with backoff through the timeline, or interrupted. Owned
 * by the scheduler actor and only called from its mailbox, so its maps need no locks.
 */
import { SchedulerError } from '../../errors';
import type { Job } from '../../model/job';
import type { Run } from '../../model/run';
import type { SchedulerEvent } from '../../model/events';
import type { Clock } from '../../runtime/clock';
import type { EventBus } from '../../runtime/event-bus';
import type { ActorRef } from '../../runtime/types';
import type { PersistenceHandlers } from '../persistence/actor';
import { RETRY_KEY_PREFIX, type QueueHandlers } from '../queue/actor';
import type { ExecutorHandlers } from '../executor/actor';
import type { RunEvent, RunResult } from '../executor/types';
import { retryDelay, shouldRetry } from '../executor/retry-policy';
import { LRUCache } from 'lru-cache';
import { abandonRun, finishRun, iso, newRun } from './runs';
import { killOrphans } from './orphans';

/** Longest retry backoff. */
export const MAX_BACKOFF_MS = 3_600_000;

/** What the run book needs. */
export interface RunBookDeps {
  clock: Clock;
  maxConcurrent: number;
  persistence: ActorRef<PersistenceHandlers>;
  queue: ActorRef<QueueHandlers>;
  executor: ActorRef<ExecutorHandlers>;
  bus: EventBus<SchedulerEvent>;
  /** The job of a run (undefined once removed). */
  jobOf(jobId: string): Promise<Job | undefined>;
  /** A run reached its final outcome (no retry follows): dependency triggers fire from here. */
  onFinal(job: Job, run: Run): Promise<void>;
}

/** Runs in every state short of final. */
export class RunBook {
  readonly #d: RunBookDeps;
  /** Runs executing now. */
  readonly #running = new Map<string, Run>();
  /** Runs in the ready queue, waiting for capacity. */
  readonly #queued = new Map<string, Run>();
  /** Runs held behind a running run of their job (overlap `queue`), per job, in order. */
  readonly #held = new Map<string, Run[]>();
  /** Retry runs waiting for their backoff to elapse (armed in the timeline as `retry:<runId>`). */
  readonly #retries = new Map<string, Run>();
  /** Newest run of recently shown or run jobs (bounded: runs carry up to 64 KiB of output). */
  readonly #lastRuns = new LRUCache<string, Run>({ max: 1000 });
  /** What a file trigger saw, for the run it caused, until the run starts (memory only: not across restarts). */
  readonly #events = new Map<string, RunEvent>();
  #stopping = false;

  constructor(deps: RunBookDeps) {
    this.#d = deps;
  }

  get runningCount(): number {
    return this.#running.size;
  }

  /** Runs not yet final: running, queued, held, or waiting for a retry's backoff. */
  get pendingCount(): number {
    let held = 0;
    for (const h of this.#held.values()) held += h.length;
    return this.#running.size + this.#queued.size + held + this.#retries.size;
  }

  /** This job's runs executing now. */
  runningOf(jobId: string): Run[] {
    return [...this.#running.values()].filter((r) => r.jobId === jobId);
  }

  /** Runs held or queued for the job (not yet started). */
  async waitingOf(jobId: string): Promise<number> {
    return (this.#held.get(jobId)?.length ?? 0) + await this.#d.queue.ask('countForJob', { jobId });
  }

  /** The job's newest run (cached; read from the store once). */
  async lastRun(jobId: string): Promise<Run | null> {
    let run = this.#lastRuns.get(jobId);
    if (run === undefined) {
      run = (await this.#d.persistence.ask('listRuns', { jobId, limit: 1 }))[0];
      if (run !== undefined) this.#lastRuns.set(jobId, run);
    }
    return run ?? null;
  }

  /** Hands `event` to the run when it starts (watch-triggered runs). */
  attachEvent(runId: string, event: RunEvent): void {
    this.#events.set(runId, event);
  }

  /** No new starts or retries from now on (shutdown). */
  stop(): void {
    this.#stopping = true;
  }

  /**
   * Puts a run in the ready queue; a full queue turns it into a `skipped` run with the reason, or,
   * with `refuseWhenFull` (a caller is waiting: `runNow`), throws the QueueFullError.
   */
  async enqueue(job: Job, run: Run, opts: { refuseWhenFull?: boolean } = {}): Promise<void> {
    try {
      await this.#d.queue.ask('enqueue', {
        item: { runId: run.id, jobId: job.id, priority: job.priority, dueAt: Date.parse(run.scheduledAt), slotAt: null },
      });
      this.#queued.set(run.id, run);
    } catch (err) {
      if (!(err instanceof SchedulerError) || err.code !== 'QUEUE_FULL' || opts.refuseWhenFull === true) throw err;
      await this.#finish(job, abandonRun(run, 'skipped', `ready queue full: ${err.message}`, this.#d.clock.now()));
    }
  }

  /** Holds a run until the job's running run finishes (overlap `queue`). */
  hold(job: Job, run: Run): void {
    const held = this.#held.get(job.id) ?? [];
    held.push(run);
    this.#held.set(job.id, held);
  }

  /** Kills the job's running runs (overlap `replace`). */
  async replace(jobId: string): Promise<void> {
    for (const r of this.runningOf(jobId)) await this.#d.executor.ask('cancel', { runId: r.id, reason: 'replace' });
  }

  /** Starts queued runs while there is capacity (the executor pulls; that is the backpressure). */
  async pump(): Promise<void> {
    while (!this.#stopping && this.#running.size < this.#d.maxConcurrent) {
      const item = await this.#d.queue.ask('pull', {});
      if (item === null) return;
      const run = this.#queued.get(item.runId);
      const job = await this.#d.jobOf(item.jobId);
      this.#queued.delete(item.runId);
      const event = this.#events.get(item.runId) ?? null;
      this.#events.delete(item.runId);
      if (run === undefined || job === undefined) continue;
      const now = this.#d.clock.now();
      const started: Run = { ...run, status: 'running', startedAt: iso(now) };
      await this.#d.persistence.ask('putRun', { run: started });
      this.#running.set(run.id, started);
      this.#d.bus.publish({ type: 'run.started', at: iso(now), run: started });
      await this.#d.executor.ask('start', {
        request: {
          runId: run.id, jobId: job.id, attempt: run.attempt, command: job.command, module: job.module,
          cwd: job.cwd, env: job.env, limits: job.limits, event,
          isolation: job.isolation ?? undefined, jobName: job.name, scheduledAt: run.scheduledAt,
        },
      });
    }
  }

  /** The executor reported a run's result. */
  async finished(runId: string, result: RunResult): Promise<void> {
    const run = this.#running.get(runId);
    if (run === undefined) return;
    this.#running.delete(runId);
    const done = finishRun(run, result, this.#d.clock.now());
    const job = await this.#d.jobOf(run.jobId);
    if (job === undefined) {
      // Removed while running: the store no longer takes its runs.
      this.#d.bus.publish({ type: 'run.finished', at: iso(this.#d.clock.now()), run: done });
      return;
    }
    await this.#finish(job, done);
    if (!this.#stopping) {
      if (shouldRetry(result.status, done.attempt, job.retry.maxRetries)) await this.#scheduleRetry(job, done);
      else await this.#d.onFinal(job, done);
    }
    const held = this.#held.get(job.id);
    if (held !== undefined && held.length > 0 && this.runningOf(job.id).length === 0) {
      await this.enqueue(job, held.shift()!);
      if (held.length === 0) this.#held.delete(job.id);
    }
    await this.pump();
  }

  /** A retry's backoff elapsed (its `retry:<runId>` timeline entry fell due). */
  async retryDue(runId: string): Promise<void> {
    const run = this.#retries.get(runId);
    if (run === undefined) return;
    this.#retries.delete(runId);
    const job = await this.#d.jobOf(run.jobId);
    if (job !== undefined) await this.enqueue(job, run);
  }

  /**
   * Start-up: a run stored as `running` has no process any more (the scheduler crashed or was
   * killed): it is interrupted. A queued one is queued again, or re-armed if it is a pending retry.
   */
  async recover(job: Job, run: Run): Promise<void> {
    const now = this.#d.clock.now();
    if (run.status === 'running') {
      await this.#interrupt(job, run, 'the scheduler stopped while this run was in flight');
    } else if (run.trigger === 'retry' && Date.parse(run.scheduledAt) > now) {
      await this.#armRetry(run);
    } else {
      await this.enqueue(job, run);
    }
  }

  /** The executor's incarnation died: its runs' processes are gone with it. */
  async executorLost(): Promise<void> {
    // The dead incarnation's pool may still have children running: they belong to no run any more.
    killOrphans(new Set(this.#running.keys()));
    for (const run of [...this.#running.values()]) {
      this.#running.delete(run.id);
      const job = await this.#d.jobOf(run.jobId);
      if (job !== undefined) await this.#interrupt(job, run, 'the executor crashed while this run was in flight');
    }
    await this.pump();
  }

  /** A new queue incarnation starts empty: re-arm pending retries and re-queue waiting runs. */
  async rearm(): Promise<void> {
    for (const run of this.#retries.values()) {
      await this.#d.queue.ask('arm', { key: RETRY_KEY_PREFIX + run.id, at: Date.parse(run.scheduledAt) });
    }
    const waiting = [...this.#queued.values()];
    this.#queued.clear();
    for (const run of waiting) {
      const job = await this.#d.jobOf(run.jobId);
      if (job !== undefined) await this.enqueue(job, run);
    }
    await this.pump();
  }

  /** Forgets a removed job's waiting runs and kills its running ones. */
  async dropJob(jobId: string): Promise<void> {
    for (const item of await this.#d.queue.ask('removeJob', { jobId })) this.#queued.delete(item.runId);
    for (const run of this.runningOf(jobId)) await this.#d.executor.ask('cancel', { runId: run.id, reason: 'manual' });
    for (const run of [...this.#retries.values()]) {
      if (run.jobId !== jobId) continue;
      this.#retries.delete(run.id);
      await this.#d.queue.ask('disarm', { key: RETRY_KEY_PREFIX + run.id });
    }
    this.#held.delete(jobId);
    this.#lastRuns.delete(jobId);
  }

  /** A run that never executes stays in history with its reason. */
  async #finish(job: Job, run: Run): Promise<void> {
    await this.#d.persistence.ask('putRun', { run });
    this.#lastRuns.set(job.id, run);
    this.#d.bus.publish({ type: 'run.finished', at: iso(this.#d.clock.now()), run });
  }

  /** `interrupted`, then retried if attempts are left: the run never reached an outcome of its own. */
  async #interrupt(job: Job, run: Run, why: string): Promise<void> {
    const done = abandonRun(run, 'interrupted', why, this.#d.clock.now());
    await this.#finish(job, done);
    if (done.attempt <= job.retry.maxRetries) await this.#scheduleRetry(job, done);
  }

  /** Retries go through the timeline (`retry:<runId>`), never by sleeping. */
  async #scheduleRetry(job: Job, failed: Run): Promise<void> {
    const now = this.#d.clock.now();
    const delay = retryDelay(failed.attempt, { baseMs: job.retry.backoffMs, maxMs: MAX_BACKOFF_MS, jitter: 0.2 });
    const retry = newRun(job, 'retry', now + delay, failed.attempt + 1, now);
    await this.#d.persistence.ask('putRun', { run: retry });
    this.#d.bus.publish({ type: 'run.queued', at: iso(now), run: retry });
    await this.#armRetry(retry);
  }

  async #armRetry(run: Run): Promise<void> {
    this.#retries.set(run.id, run);
    await this.#d.queue.ask('arm', { key: RETRY_KEY_PREFIX + run.id, at: Date.parse(run.scheduledAt) });
  }
}
