/**
 * The life of runs after they exist: waiting for their fire to be durable, waiting in the ready
 * queue, held behind a running run of the same job, executing, finishing, retried with backoff
 * through the timeline, or interrupted. Owned by the scheduler actor and only called from its
 * mailbox, so its maps need no locks.
 *
 * Batches, not runs: `pump` hands every run that has capacity to the executor in ONE message;
 * `finished` takes each result of a turn and puts their final records (and the retries they
 * cause) in the open batch, published once durable. The ready queue lives here, in the scheduler's
 * memory, so starting a run costs no message of its own.
 *
 * Overlap holds on every path: a new slot, a retry, a recovered run and a catch-up run all pass
 * through {@link admit}, and `pump` re-checks a job's running runs before it starts one of a job
 * whose policy allows one at a time (`skip`, `queue`).
 */
import type { Job } from '../../model/job';
import { epochOf, type Run } from '../../model/run';
import type { SchedulerEvent } from '../../model/events';
import type { Clock } from '../../runtime/clock';
import type { EventBus } from '../../runtime/event-bus';
import { QueueFullError } from '../../errors';
import { RETRY_KEY_PREFIX } from '../queue/actor';
import { ReadyQueue } from '../queue/ready-queue';
import { explainOverlap, type OverlapDecision } from '../queue/overlap-policy';
import type { RunEvent, RunRequest, RunResult } from '../executor/types';
import { retryDelay, shouldRetry } from '../executor/retry-policy';
import { LRUCache } from 'lru-cache';
import { abandonRun, finishRun, iso, newRun } from './runs';
import type { Committer } from './committer';
import type { Arming } from './slots';
import { OwedBacklog } from './owed-backlog';

/** What the run book needs. */
export interface RunBookDeps {
  clock: Clock;
  maxConcurrent: number;
  maxQueued: number;
  bus: EventBus<SchedulerEvent>;
  commit: Committer;
  arming: Arming;
  /** Hands runs to the executor (one message); a failure comes back through {@link startFailed}. */
  start(requests: RunRequest[]): void;
  /** Cancels a running run in the executor. */
  cancel(runId: string, reason: 'replace' | 'manual'): void;
  /** Whether the job still exists (removed jobs' results are not stored). */
  exists(jobId: string): boolean;
  /** A run reached its final outcome (no retry follows): dependency triggers fire from here. */
  onFinal(job: Job, run: Run): void;
}

/** `owed`: a run that exists already (a retry, a recovered run): a full ready queue never drops it. */
interface Entry { run: Run; job: Job; owed?: boolean }

/** Runs in every state short of final. */
export class RunBook {
  readonly #d: RunBookDeps;
  /** Runs executing now. */
  readonly #running = new Map<string, Entry>();
  readonly #runningPerJob = new Map<string, number>();
  /** Runs fired whose record is not durable yet, per job (they count as waiting for overlap). */
  readonly #pendingPerJob = new Map<string, number>();
  /** Runs waiting for capacity. */
  readonly #ready: ReadyQueue;
  readonly #queued = new Map<string, Entry>();
  /** Owed runs (retries, recovered runs) that found the ready queue full (owed-backlog.ts). */
  readonly #backlog = new OwedBacklog<Entry>();
  /** The backlog is being drained: its runs go to the queue, not behind themselves. */
  #draining = false;
  /** Runs held behind a running run of their job (overlap), per job, in order. */
  readonly #held = new Map<string, Entry[]>();
  /** Retry runs waiting for their backoff to elapse (armed in the timeline as `retry:<runId>`). */
  readonly #retries = new Map<string, Entry>();
  /**
   * Runs that ended whose final record is not durable yet, by id: still shown `running` (their
   * stored record says `queued`), so `lastRun` and `history` never step back to an older run.
   */
  readonly #finishing = new Map<string, Entry>();
  /** Newest final run of recently shown or run jobs (bounded: runs carry up to 64 KiB of output). */
  readonly #lastRuns = new LRUCache<string, Run>({ max: 1000 });
  /** What a watch-triggered run is told about its event (handed to it when it starts). */
  readonly #events = new Map<string, RunEvent>();
  #stopping = false;
  /** Final records added to the open batch, not durable yet (their retries are not armed yet). */
  #finalsInFlight = 0;

  constructor(deps: RunBookDeps) {
    this.#d = deps;
    this.#ready = new ReadyQueue({ maxSize: deps.maxQueued });
  }

  get runningCount(): number {
    return this.#running.size;
  }

  /** Runs waiting for capacity. */
  get readyCount(): number {
    return this.#ready.size;
  }

  /** Runs not yet final: fired, running, ready, held, or waiting for a retry's backoff. */
  get pendingCount(): number {
    let n = this.#running.size + this.#queued.size + this.#retries.size + this.#finalsInFlight + this.backlogCount;
    for (const h of this.#held.values()) n += h.length;
    for (const p of this.#pendingPerJob.values()) n += p;
    return n;
  }

  /** Owed runs waiting for room in the ready queue (see `#backlog`). */
  get backlogCount(): number {
    return this.#backlog.size;
  }

  /** Places left in the ready queue now. */
  room(): number {
    return this.#ready.maxSize - this.#ready.size;
  }

  /**
   * @param room places left (default: now); a batch of manual runs counts its own runs off it.
   * @throws QueueFullError when the ready queue is full (a caller waiting for a new run is refused).
   */
  assertRoom(room = this.room()): void {
    if (room <= 0) {
      throw new QueueFullError(`the ready queue is full (${this.#ready.maxSize} runs waiting); try again later`);
    }
  }

  /** Every run executing now with its job's timeout (health: no run past its timeout). */
  runningWithTimeouts(): Array<{ run: Run; timeoutMs: number | null }> {
    return [...this.#running.values()].map((e) => ({ run: e.run, timeoutMs: e.job.limits.timeoutMs ?? null }));
  }

  /** This job's runs executing now. */
  runningOf(jobId: string): Run[] {
    if ((this.#runningPerJob.get(jobId) ?? 0) === 0) return [];
    return [...this.#running.values()].filter((e) => e.job.id === jobId).map((e) => e.run);
  }

  /**
   * This job's runs as people see them executing: running, or ended with the final record not
   * durable yet (the read path's live fact; overlap and limits use {@link runningOf}).
   */
  shownRunningOf(jobId: string): Run[] {
    const running = this.runningOf(jobId);
    if (this.#finishing.size === 0) return running;
    for (const e of this.#finishing.values()) if (e.job.id === jobId) running.push(e.run);
    return running;
  }

  #runningN(jobId: string): number {
    return this.#runningPerJob.get(jobId) ?? 0;
  }

  /** Runs of the job not started yet: fired (not durable yet), ready, or held. */
  waitingOf(jobId: string): number {
    return (this.#held.get(jobId)?.length ?? 0) + this.#ready.countForJob(jobId) + (this.#pendingPerJob.get(jobId) ?? 0) +
      this.#backlog.countFor(jobId);
  }

  /** The overlap verdict for a new run of `job`, from what is in memory. */
  verdict(job: Job): ReturnType<typeof explainOverlap> {
    return explainOverlap(job.overlap, { running: this.#runningN(job.id), queued: this.waitingOf(job.id) });
  }

  /** The job's newest run, if this process has seen one (else the caller reads the store). */
  cachedLastRun(jobId: string): Run | undefined {
    return this.#lastRuns.get(jobId);
  }

  rememberLastRun(run: Run): void {
    this.#rememberFinal(run);
  }

  /** Keeps the newest final run of the job (ids sort by creation: an older run ending later does not replace a newer one). */
  #rememberFinal(run: Run): void {
    const cur = this.#lastRuns.get(run.jobId);
    if (cur === undefined || run.id >= cur.id) this.#lastRuns.set(run.jobId, run);
  }

  /** No new starts or retries from now on (shutdown). */
  stop(): void {
    this.#stopping = true;
  }

  /** Hands `event` to the run when it starts (watch-triggered runs). */
  attachEvent(runId: string, event: RunEvent): void {
    this.#events.set(runId, event);
  }

  /** A run was fired: its record is in the open batch. It counts as waiting until {@link fireDurable}. */
  fired(jobId: string): void {
    this.#pendingPerJob.set(jobId, (this.#pendingPerJob.get(jobId) ?? 0) + 1);
  }

  /** A fired run's record is durable (or was deduped / dropped): it may now wait for capacity. */
  fireDurable(job: Job, run: Run, decision: OverlapDecision, writtenOff: boolean): void {
    const n = (this.#pendingPerJob.get(job.id) ?? 1) - 1;
    if (n <= 0) this.#pendingPerJob.delete(job.id);
    else this.#pendingPerJob.set(job.id, n);
    if (!writtenOff) this.dispatch(job, run, decision);
  }

  /**
   * A durable run may wait for capacity now. `queued`: publish `run.queued` (a fire committed
   * ahead published it when its record became durable, before its slot's time).
   */
  dispatch(job: Job, run: Run, decision: OverlapDecision, queued = true): void {
    if (queued) this.#d.bus.publish({ type: 'run.queued', at: iso(this.#d.clock.now()), run });
    this.#place(job, run, decision);
    // Durable after a graceful stop began: it will not start here, the next start queues it again.
    if (this.#stopping) this.#d.commit.add({ parked: [run.id] });
  }

  /**
   * A run that exists already (a retry whose backoff elapsed, a run recovered at start-up) goes
   * through the job's overlap policy like a new slot. It is never dropped: where `skip` would drop
   * a new slot, it waits for the job's running run instead.
   */
  admit(job: Job, run: Run): void {
    const v = this.verdict(job);
    this.#place(job, run, v.decision === 'skip' ? 'enqueue' : v.decision, true);
  }

  #place(job: Job, run: Run, decision: OverlapDecision, owed = false): void {
    if (decision === 'replace') {
      for (const r of this.runningOf(job.id)) this.#d.cancel(r.id, 'replace');
    }
    if (decision === 'enqueue' && this.#runningN(job.id) + this.#ready.countForJob(job.id) > 0) this.#hold({ job, run, owed });
    else this.#enqueue({ job, run, owed });
  }

  /**
   * Puts a run in the ready queue. A full queue turns a new fire into a `skipped` run with the
   * reason; an owed run waits in the backlog instead (behind any owed run already waiting there).
   */
  #enqueue(e: Entry): void {
    if (e.owed === true && ((!this.#draining && this.backlogCount > 0) || this.room() <= 0)) {
      this.#backlog.push(e);
      return;
    }
    try {
      this.#ready.push({ runId: e.run.id, jobId: e.job.id, priority: e.job.priority, dueAt: epochOf(e.run.scheduledAt) });
      this.#queued.set(e.run.id, e);
    } catch (err) {
      if (!(err instanceof QueueFullError)) throw err;
      this.#final(e.job, abandonRun(e.run, 'skipped', `ready queue full: ${err.message}`, this.#d.clock.now()), null);
    }
  }

  /** Owed runs enter the ready queue while it has room, oldest first (their overlap policy decides again). */
  #drainBacklog(): void {
    this.#draining = true;
    try {
      while (this.#backlog.size > 0 && this.room() > 0) {
        const e = this.#backlog.shift()!;
        if (!this.#d.exists(e.job.id)) continue;
        const v = this.verdict(e.job);
        this.#place(e.job, e.run, v.decision === 'skip' ? 'enqueue' : v.decision, true);
      }
    } finally {
      this.#draining = false;
    }
  }

  #hold(e: Entry): void {
    const held = this.#held.get(e.job.id) ?? [];
    held.push(e);
    this.#held.set(e.job.id, held);
  }

  /** The job has nothing running or ready: its first held run may go. */
  #release(jobId: string): void {
    const held = this.#held.get(jobId);
    if (held === undefined || this.#runningN(jobId) > 0 || this.#ready.countForJob(jobId) > 0) return;
    this.#enqueue(held.shift()!);
    if (held.length === 0) this.#held.delete(jobId);
  }

  /** Starts ready runs while there is capacity: every start of this turn in ONE executor message. */
  pump(): void {
    const requests: RunRequest[] = [];
    const starting: Entry[] = [];
    while (!this.#stopping && this.#running.size < this.#d.maxConcurrent) {
      if (this.backlogCount > 0) this.#drainBacklog();
      const item = this.#ready.pop();
      if (item === undefined) break;
      const e = this.#queued.get(item.runId);
      this.#queued.delete(item.runId);
      if (e === undefined) {
        this.#events.delete(item.runId);
        continue;
      }
      const { job, run } = e;
      // One at a time for `skip` and `queue`, whatever path the run came by (a manual run excepted:
      // a person asked for it, docs/cli.md "run").
      if ((job.overlap === 'skip' || job.overlap === 'queue') && run.trigger !== 'manual' && this.#runningN(job.id) > 0) {
        this.#hold(e);
        continue;
      }
      const event = this.#events.get(run.id) ?? null;
      this.#events.delete(run.id);
      const started: Run = { ...run, status: 'running' };
      this.#running.set(run.id, { job, run: started });
      this.#runningPerJob.set(job.id, this.#runningN(job.id) + 1);
      starting.push({ job, run: started });
      requests.push({
        runId: run.id, jobId: job.id, attempt: run.attempt, command: job.command, module: job.module,
        cwd: job.cwd, env: job.env, inheritEnv: job.inheritEnv ?? false, limits: job.limits, event,
        isolation: job.isolation ?? undefined, jobName: job.name, scheduledAt: run.scheduledAt,
      });
    }
    // Room the starts freed goes to owed runs waiting for it.
    if (!this.#stopping && this.backlogCount > 0) this.#drainBacklog();
    if (requests.length === 0) return;
    // One instant for the whole hand-over (it is ONE message), taken when it is sent; the events
    // follow it, so subscribers' work does not delay the start.
    const at = iso(this.#d.clock.now());
    for (const e of starting) e.run.startedAt = at;
    this.#d.start(requests);
    for (const e of starting) this.#d.bus.publish({ type: 'run.started', at, run: e.run });
  }

  #stopped(e: Entry): void {
    this.#running.delete(e.run.id);
    const n = this.#runningN(e.job.id) - 1;
    if (n <= 0) this.#runningPerJob.delete(e.job.id);
    else this.#runningPerJob.set(e.job.id, n);
  }

  /**
   * One result of the executor's message: its final record (and its retry) goes in the open
   * batch, with every other result of that message (the engine walks them in time slices).
   */
  finished(runId: string, result: RunResult): void {
    const e = this.#running.get(runId);
    if (e === undefined) return;
    const now = this.#d.clock.now();
    this.#stopped(e);
    const done = finishRun(e.run, result, now);
    if (!this.#d.exists(e.job.id)) {
      // Removed while running: the store no longer takes its runs.
      this.#d.bus.publish({ type: 'run.finished', at: iso(now), run: done });
      return;
    }
    const retry = !this.#stopping && shouldRetry(result.status, done.attempt, e.job.retry.maxRetries);
    this.#finishing.set(runId, e);
    this.#final(e.job, done, retry ? this.#retryOf(e.job, done) : null);
  }

  /** The executor did not take these runs (its ask failed): they are interrupted, retried per policy. */
  startFailed(runIds: string[], why: string): void {
    for (const id of runIds) {
      const e = this.#running.get(id);
      if (e === undefined) continue;
      this.#stopped(e);
      // It may have started after all (an ask that timed out): make sure it does not run on.
      this.#d.cancel(id, 'manual');
      this.#finishing.set(id, e);
      this.#interrupt(e.job, e.run, `could not hand the run to the executor: ${why}`);
    }
  }

  /** A retry's backoff elapsed (its `retry:<runId>` timeline entry fell due). */
  retryDue(runId: string): void {
    const e = this.#retries.get(runId);
    if (e === undefined) return;
    this.#retries.delete(runId);
    if (this.#d.exists(e.job.id)) this.admit(e.job, e.run);
  }

  /**
   * Start-up: a run stored unfinished may have started before the scheduler stopped (a crash, or
   * a kill): it is `interrupted` and retried per policy. A pending retry whose time has not come
   * is re-armed; a run the last scheduler parked unstarted at a graceful stop is queued again.
   * Both are announced (`run.queued`) again, as every run start-up takes over (fires-ahead.ts
   * `reclaim`): the incarnation that queued them may have died before it said so.
   */
  recover(job: Job, run: Run, parked: boolean): void {
    const now = this.#d.clock.now();
    const retry = run.status === 'queued' && run.trigger === 'retry' && Date.parse(run.scheduledAt) > now;
    if (retry || (run.status === 'queued' && parked)) {
      this.#d.bus.publish({ type: 'run.queued', at: iso(now), run });
      if (retry) this.#armRetry({ job, run });
      else this.admit(job, run);
    } else {
      this.#interrupt(job, run, run.status === 'running' || run.startedAt !== null
        ? 'the scheduler stopped while this run was in flight'
        : 'the scheduler stopped before this run finished (it may have started)');
    }
  }

  /** The executor's incarnation died: its runs' processes are gone with it. Returns their ids. */
  executorLost(): string[] {
    const lost = [...this.#running.values()];
    for (const e of lost) {
      this.#stopped(e);
      this.#finishing.set(e.run.id, e);
      this.#interrupt(e.job, e.run, 'the executor crashed while this run was in flight');
    }
    return lost.map((e) => e.run.id);
  }

  /** Ids of running runs (orphan clean-up). */
  runningIds(): string[] {
    return [...this.#running.keys()];
  }

  /** A new queue incarnation starts empty: re-arm pending retries (the ready queue is here). */
  rearm(): void {
    for (const e of this.#retries.values()) this.#d.arming.arm(RETRY_KEY_PREFIX + e.run.id, Date.parse(e.run.scheduledAt));
  }

  /** Graceful stop: runs that never started, for the store to park (queued again at the next start). */
  unstarted(): string[] {
    return [...this.#queued.keys(), ...[...this.#held.values()].flat().map((e) => e.run.id), ...this.#backlog.values().map((e) => e.run.id)];
  }

  /** Forgets a removed job's waiting runs and kills its running ones. */
  dropJob(jobId: string): void {
    for (const item of this.#ready.removeJob(jobId)) this.#queued.delete(item.runId);
    for (const run of this.runningOf(jobId)) this.#d.cancel(run.id, 'manual');
    for (const e of [...this.#retries.values()]) {
      if (e.job.id !== jobId) continue;
      this.#retries.delete(e.run.id);
      this.#d.arming.disarm(RETRY_KEY_PREFIX + e.run.id);
    }
    this.#held.delete(jobId);
    // Its backlog entries are skipped when drained (the job no longer exists).
    this.#lastRuns.delete(jobId);
    for (const [id, e] of this.#finishing) if (e.job.id === jobId) this.#finishing.delete(id);
  }

  /** Updates the spec waiting runs carry (pause/resume changed it). */
  updateJob(job: Job): void {
    for (const e of this.#queued.values()) if (e.job.id === job.id) e.job = job;
    if (this.#backlog.countFor(job.id) > 0) for (const e of this.#backlog.values()) if (e.job.id === job.id) e.job = job;
  }

  /**
   * A run's final record (with the retry it causes, if any) goes to the open batch; once durable
   * `run.finished` is published, the retry is armed, dependents fire and held runs may go.
   */
  #final(job: Job, done: Run, retry: Run | null): void {
    this.#finalsInFlight++;
    this.#d.commit.add({ runs: retry === null ? [done] : [done, retry] }, () => {
      this.#finalsInFlight--;
      this.#finishing.delete(done.id);
      const at = iso(this.#d.clock.now());
      this.#rememberFinal(done);
      this.#d.bus.publish({ type: 'run.finished', at, run: done });
      if (retry !== null) {
        this.#d.bus.publish({ type: 'run.queued', at, run: retry });
        this.#armRetry({ job, run: retry });
      } else if (!this.#stopping && done.status !== 'skipped') {
        this.#d.onFinal(job, done);
      }
      this.#release(job.id);
    });
  }

  /** `interrupted`, then retried if attempts are left: the run never reached an outcome of its own. */
  #interrupt(job: Job, run: Run, why: string): void {
    const done = abandonRun(run, 'interrupted', why, this.#d.clock.now());
    this.#final(job, done, done.attempt <= job.retry.maxRetries ? this.#retryOf(job, done) : null);
  }

  /** Retries go through the timeline (`retry:<runId>`), never by sleeping. */
  #retryOf(job: Job, failed: Run): Run {
    const now = this.#d.clock.now();
    const delay = retryDelay(failed.attempt, job.retry.backoffMs);
    return newRun(job, 'retry', now + delay, failed.attempt + 1, now);
  }

  #armRetry(e: Entry): void {
    this.#retries.set(e.run.id, e);
    this.#d.arming.arm(RETRY_KEY_PREFIX + e.run.id, Date.parse(e.run.scheduledAt));
  }
}
