/**
 * The scheduler actor's behaviour: job lifecycle and the life of every slot and run. It runs on the
 * main thread, one message at a time, so its maps need no locks. It asks the parser and persistence
 * (thread actors) and the queue and executor (main-thread actors); none of those ever asks back, so
 * no cycle of waits can form. Progress from the queue's timer, the executor and the store's
 * commits arrives as messages.
 *
 * The hot path is paid per batch: a `slotsDue` message carries every entry the timer popped; the
 * slots are decided in memory (SlotKeeper, RunBook) and everything to make durable goes to the
 * group commit (Committer); each handler ends with {@link Engine.endTurn}: one timeline message,
 * one executor message for the starts, one commit.
 */
import type { Logger } from '../../model';
import { ActorDeadError, ActorStoppedError, NotFoundError, ShutdownError } from '../../errors';
import type { Job } from '../../model/job';
import type { Run, RunTrigger } from '../../model/run';
import type { SchedulerEvent } from '../../model/events';
import type { Clock } from '../../runtime/clock';
import type { EventBus } from '../../runtime/event-bus';
import { CRASH_HANDLER, type ActorRef } from '../../runtime/types';
import { runSliced } from '../../runtime/slice';
import type { ParserHandlers } from '../parser/actor';
import { JobIndex } from './job-index';
import type { PersistenceHandlers } from '../persistence/actor';
import type { BatchResult } from '../persistence/port';
import type { QueueHandlers } from '../queue/actor';
import type { ExecutorHandlers } from '../executor/actor';
import type { RunEvent, RunRequest, RunResult } from '../executor/types';
import { abandonRun, iso, newRun } from './runs';
import { RunBook } from './runbook';
import { Arming, SlotKeeper } from './slots';
import { Committer } from './committer';
import { FiresAhead } from './fires-ahead';
import { JobDesk } from './job-desk';
import { killOrphans } from './orphans';
import { killRunGroups } from '../../workers/run/cgroup';
import type { TriggerHandlers } from '../triggers/actor';
import { RETRY_KEY_PREFIX } from '../queue/actor';
import { loadJobs } from './startup';
import { afterTriggerKey, eventTriggerKey, TriggerLog } from './trigger-log';

/** What the engine talks to. */
export interface EngineDeps {
  clock: Clock;
  logger: Logger;
  mode: 'active' | 'offline';
  maxConcurrent: number;
  maxQueued: number;
  parser: ActorRef<ParserHandlers>;
  persistence: ActorRef<PersistenceHandlers>;
  queue: ActorRef<QueueHandlers>;
  executor: ActorRef<ExecutorHandlers>;
  bus: EventBus<SchedulerEvent>;
  /** The scheduler actor itself: completions come back through its mailbox. */
  self(): ActorRef<SchedulerHandlers>;
  /** The triggers actor (file and usage triggers), told what to watch; null in offline mode (nothing fires there). */
  triggers: ActorRef<TriggerHandlers> | null;
  /** The store's commits started (detail) or stopped (null) failing. */
  onStoreFault(detail: string | null): void;
  /** Longest a commit or an executor hand-over may take. @default 30000 */
  stepTimeoutMs?: number;
}

/** Where a crashed incarnation's late completions go: nowhere. */
const deadSelf = {
  name: 'scheduler (crashed incarnation)',
  tell: () => undefined,
  ask: () => Promise.reject(new ActorStoppedError('this scheduler incarnation crashed')),
} as unknown as ActorRef<SchedulerHandlers>;

/** The scheduler actor's messages. */
export type SchedulerHandlers = ReturnType<Engine['handlers']>;

type Outcome = { ok: true; result: BatchResult } | { ok: false; error: string };

/** State and handlers of the scheduler actor. */
export class Engine {
  readonly #d: EngineDeps;
  /** Every job's id, name and flags (specs stay in the store). */
  readonly index = new JobIndex();
  /** Job administration and the caches of job specs and parsed schedules (job-desk.ts). */
  readonly jobs: JobDesk;
  readonly arming = new Arming();
  readonly commit: Committer;
  readonly slots: SlotKeeper;
  /** Fires committed ahead of their slot, dispatched at its time (fires-ahead.ts). */
  readonly ahead: FiresAhead;
  /** Notes trigger fires for `status` / `why` (trigger-log.ts). */
  readonly triggerLog: TriggerLog;
  runs: RunBook;
  #stopping = false;
  /** This incarnation crashed: what it started must not reach the next one's mailbox. */
  #dead = false;
  /** `runNow` callers waiting for their run to be durable (failed if this incarnation crashes). */
  readonly #awaitingDurable = new Set<(err: Error) => void>();

  constructor(deps: EngineDeps) {
    // Completions of a dead incarnation's commits, asks and timers are dropped, not delivered to
    // the next incarnation (whose commit ids, runs and retries are its own, rebuilt from the store).
    this.#d = { ...deps, self: () => (this.#dead ? deadSelf : deps.self()) };
    this.commit = new Committer({
      clock: deps.clock, logger: deps.logger, persistence: deps.persistence,
      commitTimeoutMs: deps.stepTimeoutMs,
      deliver: (id, outcome) => this.#d.self().tell('committed', { id, outcome }),
      retry: () => this.#d.self().tell('commitRetry', {}),
      onFault: deps.onStoreFault,
      // A long run of durable callbacks sends what it collected before it yields the thread.
      slice: { beforeYield: () => this.#sendTurn() },
    });
    this.slots = new SlotKeeper({
      clock: deps.clock, bus: deps.bus, commit: this.commit, arming: this.arming,
      fire: (job, slotAt, trigger, slotted) => this.fireSlot(job, slotAt, trigger, slotted),
      preFire: (job, slotAt, at) => this.ahead.fire(job, slotAt, at),
      complete: (job) => this.jobs.complete(job),
      column: this.index.column(),
    });
    this.runs = this.#newRunBook();
    this.ahead = new FiresAhead({
      clock: deps.clock, bus: deps.bus, commit: this.commit, slots: this.slots, runs: () => this.runs,
      stopping: () => this.#stopping, current: (id) => this.jobs.cached(id),
      wake: () => this.#d.self().tell('dispatchDue', {}),
      retryDue: (key) => this.runs.retryDue(key.slice(RETRY_KEY_PREFIX.length)),
    });
    this.triggerLog = new TriggerLog(deps);
    this.jobs = new JobDesk({
      ...this.#d, index: this.index, arming: this.arming, slots: this.slots, ahead: this.ahead, commit: this.commit,
      runs: () => this.runs,
      forget: (jobId) => this.#d.self().tell('forgetJob', { id: jobId }),
      refuseIfStopping: () => this.#refuseIfStopping(),
      endTurn: () => this.endTurn(),
    });
  }

  #newRunBook(): RunBook {
    const d = this.#d;
    return new RunBook({
      clock: d.clock, maxConcurrent: d.maxConcurrent, maxQueued: d.maxQueued, bus: d.bus,
      commit: this.commit, arming: this.arming,
      start: (requests) => this.#start(requests),
      cancel: (runId, reason) => d.executor.tell('cancel', { runId, reason }),
      exists: (jobId) => this.index.get(jobId) !== undefined,
      onFinal: (job, run) => {
        if (this.index.dependentsOf(job).length > 0) d.self().tell('finalOutcome', { job, run });
      },
    });
  }

  /** The message handlers (bound). */
  handlers() {
    return {
      load: (p: { start: boolean; reboot: boolean }) => this.#load(p.start, p.reboot),
      /** Resolves (in the reply) once start-up's records are durable. */
      started: (_p: Record<string, never>) => {
        // What start-up recorded, not a moment with nothing in flight (jobs may be firing already).
        const idle = this.commit.durable();
        this.commit.flush();
        return { idle };
      },
      reload: (_p: Record<string, never>) => this.#reload(),
      executorLost: (_p: Record<string, never>) => this.#turn(() => {
        const lost = new Set(this.runs.executorLost());
        killOrphans(lost);
        void killRunGroups(lost); // their cgroups too (escapees that cleared their environment)
      }),
      /** The reply carries `durable`, settled once the job is on disk (callers await it). */
      addJob: (p: { spec: unknown }) => this.jobs.addJob(p.spec),
      /** Many adds in one turn and one insert transaction; each answer carries its own `durable`. */
      addJobs: (p: { specs: unknown[] }) => this.jobs.addJobs(p.specs),
      removeJob: (p: { ref: string }) => this.jobs.removeJob(p.ref),
      setEnabled: (p: { ref: string; enabled: boolean }) => this.jobs.setEnabled(p.ref, p.enabled),
      /** The reply carries `durable`, settled once the run is on disk. */
      runNow: (p: { ref: string }) => this.#runNow(p.ref),
      /**
       * Many `runNow` in one message (the facade coalesces concurrent callers): one answer per ref
       * (a run or the error refusing it) and ONE `durable`, settled once every run is on disk.
       */
      runNowMany: (p: { refs: string[] }) => this.#runNowMany(p.refs),
      runningCount: (_p: Record<string, never>) => this.runs.runningCount,
      pendingCount: (_p: Record<string, never>) => this.runs.pendingCount,
      readyCount: (_p: Record<string, never>) => this.runs.readyCount,
      slotsDue: (p: { due: Array<{ jobId: string; at: number }> }) => this.#slotsDue(p.due),
      /** A fire committed ahead (or a retry handed over early) reached its time. */
      dispatchDue: (_p: Record<string, never>) => this.#turn(() => this.ahead.dispatchDue()),
      clockJumped: async (p: { deltaMs: number }) => {
        this.slots.clockJumped(p.deltaMs);
        this.ahead.clockJumped(p.deltaMs, (job) => this.jobs.schedule(job)?.kind === 'interval');
        await this.endTurn(true);
      },
      rearm: (_p: Record<string, never>) => this.#turn(() => {
        this.ahead.queueRestarted();
        this.slots.rearmAll();
        this.runs.rearm();
      }),
      runsFinished: (p: { results: Array<{ runId: string; result: RunResult }> }) =>
        this.#turn(() => runSliced(p.results, (r) => this.runs.finished(r.runId, r.result), { beforeYield: () => this.#sendTurn() })),
      startFailed: (p: { runIds: string[]; error: string }) => this.#turn(() => this.runs.startFailed(p.runIds, p.error)),
      committed: (p: { id: number; outcome: Outcome }) => this.#turn(() => this.commit.settled(p.id, p.outcome)),
      forgetJob: (p: { id: string }) => this.jobs.forgetJob(p.id),
      commitRetry: (_p: Record<string, never>) => this.#turn(() => this.commit.retryNow()),
      finalOutcome: (p: { job: Job; run: Run }) => this.#fireDependents(p.job, p.run),
      triggerFired: (p: { jobId: string; reason: string; event?: RunEvent | null }) => this.#triggerFired(p.jobId, p.reason, p.event ?? null),
      beginShutdown: async (_p: Record<string, never>) => {
        this.#stopping = true;
        this.runs.stop();
        // Told, not awaited: a hung native unsubscribe must not hold the shutdown.
        this.#d.triggers?.tell('stop', {});
      },
      /** Parks unstarted runs; the reply's `idle` settles once every record is durable. */
      drain: (_p: Record<string, never>) => {
        const parked = [...this.runs.unstarted(), ...this.ahead.park()];
        if (parked.length > 0) this.commit.add({ parked });
        // A failed commit waiting out its backoff goes again now: a stop does not wait for a
        // timer (on a virtual clock it might never fire; the caller bounds this wait anyway).
        this.commit.retryNow();
        this.commit.flush();
        return { running: this.runs.runningCount, idle: this.commit.idle() };
      },
      /** Answers once the mailbox reaches it (health's heartbeat). */
      heartbeat: (_p: Record<string, never>) => true as const,
      /** Counters of the group commit (benches, tests). */
      commitStats: (_p: Record<string, never>) => ({ ...this.commit.stats }),
      /** The runtime calls it when this incarnation crashed (not a message). */
      [CRASH_HANDLER]: () => this.abandon(),
    };
  }

  /**
   * This incarnation crashed: stop its timers, let waiters go, and cut it off from the mailbox.
   * The next incarnation rebuilds everything from the store (its start-up recovery records the
   * runs in flight `interrupted` and retries them by policy).
   */
  abandon(): void {
    this.#dead = true;
    this.commit.abandon();
    this.ahead.stop();
    const err = new ActorDeadError('the scheduler restarted before this run was recorded; see the job\'s history');
    for (const reject of this.#awaitingDurable) reject(err);
    this.#awaitingDurable.clear();
  }

  // ---- live facts, read beside the mailbox ---------------------------------------------------
  // The read path (src/reads) runs on this same thread between messages, so it may look at these
  // maps without a message: it sees them as of the last await of whatever handler is in flight.

  /** The job's runs executing now. */
  runningOf(jobId: string): Run[] {
    return this.runs.runningOf(jobId);
  }

  /** Runs executing now. */
  get runningCount(): number {
    return this.runs.runningCount;
  }

  /** Every run executing now, with its job's timeout (at most maxConcurrent). */
  runningWithTimeouts(): Array<{ run: Run; timeoutMs: number | null }> {
    return this.runs.runningWithTimeouts();
  }

  /** Runs waiting for capacity. */
  get readyCount(): number {
    return this.runs.readyCount;
  }

  /** Job counts of the index. */
  jobCounts(): { total: number; enabled: number; paused: number; done: number } {
    return this.index.counts();
  }

  /**
   * Runs `fn`, then ends the turn (one timeline message, one executor message, one commit). `fn`
   * may work in time slices (src/runtime/slice.ts) and return a promise of the rest: the mailbox
   * stays held until it settles.
   */
  async #turn(fn: () => void | Promise<void>): Promise<void> {
    await fn();
    await this.endTurn();
  }

  /** What the turn collected so far, sent now (a long handler does this before it yields the thread). */
  #sendTurn(): void {
    this.runs.pump();
    this.commit.flush();
    const arms = this.arming.take();
    if (arms !== null) this.#d.queue.tell('armMany', arms);
  }

  /**
   * Sends what this turn collected: starts, the commit, timeline changes. The timeline message is
   * a `tell` (the queue applies it in order), awaited only where the caller needs it applied
   * before it answers (a clock jump: the timer hands over due entries right after).
   */
  async endTurn(awaitArms = false, holdArms = false): Promise<void> {
    this.runs.pump();
    this.commit.flush();
    // Start-up holds its pages' timeline entries back and sends them in few large messages, which
    // the queue heapifies (src/actors/queue/timeline.ts upsertMany) instead of inserting one by one.
    if (holdArms) return;
    const arms = this.arming.take();
    // (Offline mode arms no slots, but a foreground run's retries do go through the timeline.)
    if (arms === null) return;
    const leadMs = this.ahead.leadToSend();
    const msg = leadMs === undefined ? arms : { ...arms, leadMs };
    if (awaitArms) await this.#d.queue.ask('armMany', msg);
    else this.#d.queue.tell('armMany', msg);
  }

  #start(requests: RunRequest[]): void {
    this.#d.executor.ask('startMany', { requests }, { timeoutMs: this.#d.stepTimeoutMs ?? 30_000 }).catch((err: unknown) => {
      this.#d.self().tell('startFailed', { runIds: requests.map((r) => r.runId), error: err instanceof Error ? err.message : String(err) });
    });
  }

  // ---- start-up ----------------------------------------------------------------------------

  async #load(start: boolean, reboot: boolean): Promise<void> {
    const jobs = this.jobs;
    await loadJobs(this, { ...this.#d, start, reboot, remember: (job) => jobs.remember(job),
      schedule: (job) => jobs.schedule(job), watch: (job) => jobs.watch(job), jobs: (ids) => jobs.jobsOf(ids) });
    if (start) this.#d.bus.publish({ type: 'scheduler.started', at: iso(this.#d.clock.now()) });
    await this.endTurn();
  }

  /** After a restore: forget everything, reload from the store, re-arm. */
  async #reload(): Promise<void> {
    // The restored jobs set up their own triggers below; the replaced jobs' watches must not stay open.
    this.#d.triggers?.tell('clear', {});
    for (const id of [...this.index.active()]) this.jobs.unarm(id);
    this.runs = this.#newRunBook();
    this.jobs.clearSpecs();
    this.index.clear();
    await this.#load(this.#d.mode === 'active', false);
  }

  async #runNow(ref: string): Promise<{ run: Run; durable: Promise<Run> }> {
    const { items, durable } = await this.#runNowMany([ref]);
    const item = items[0]!;
    if ('error' in item) throw item.error;
    return { run: item.run, durable: durable.then(() => item.run) };
  }

  /**
   * Manual runs of many jobs (or many of one job) in ONE turn: the specs in one read, every run in
   * the open batch with ONE callback, one `pump`. A ref that is unknown, or a full ready queue,
   * refuses that ref only (and records nothing for it).
   */
  async #runNowMany(refs: string[]): Promise<{ items: Array<{ run: Run } | { error: Error }>; durable: Promise<void> }> {
    this.#refuseIfStopping();
    const ids = refs.map((ref) => this.index.idOf(ref));
    const jobs = await this.jobs.jobsOf([...new Set(ids.filter((id): id is string => id !== undefined))]);
    const now = this.#d.clock.now();
    const items: Array<{ run: Run } | { error: Error }> = [];
    const fired: Array<{ job: Job; run: Run }> = [];
    const room = this.runs.room();
    for (let i = 0; i < refs.length; i++) {
      const id = ids[i];
      const job = id === undefined ? undefined : jobs.get(id);
      if (job === undefined) {
        items.push({ error: new NotFoundError(`job '${refs[i]}' not found`) });
        continue;
      }
      // A full ready queue refuses the caller (QueueFullError) and records nothing.
      try {
        this.runs.assertRoom(room - fired.length);
      } catch (err) {
        items.push({ error: err as Error });
        continue;
      }
      const run = newRun(job, 'manual', now, 1, now);
      this.runs.fired(job.id);
      fired.push({ job, run });
      items.push({ run });
    }
    let durable: Promise<void> = Promise.resolve();
    if (fired.length > 0) {
      let resolve!: () => void;
      let reject!: (err: Error) => void;
      durable = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
      durable.catch(() => undefined);
      // Failed (ActorDeadError) if this incarnation crashes before the batch is durable.
      this.#awaitingDurable.add(reject);
      this.commit.add({ runs: fired.map((f) => f.run) }, (result) => {
        this.#awaitingDurable.delete(reject);
        const dropped = result.dropped.length === 0 ? null : new Set(result.dropped);
        for (const { job, run } of fired) this.runs.fireDurable(job, run, 'start', dropped?.has(job.id) ?? false);
        resolve();
      });
      await this.endTurn();
    }
    return { items, durable };
  }

  // ---- firing ------------------------------------------------------------------------------

  /**
   * Entries the timer popped. A large batch is handled in time slices (src/runtime/slice.ts): each
   * slice's fires are sent to the commit before the thread is yielded (so they become durable
   * meanwhile), and the next slice decides at the time it resumes.
   */
  async #slotsDue(due: Array<{ jobId: string; at: number }>): Promise<void> {
    if (this.#stopping) return;
    let now = this.#d.clock.now();
    const jobs = await this.jobs.jobsOf(due.filter((e) => !e.jobId.startsWith(RETRY_KEY_PREFIX)).map((e) => e.jobId));
    await runSliced(due, ({ jobId: key, at }) => {
      if (key.startsWith(RETRY_KEY_PREFIX)) {
        // Handed over within the timer's lead: it waits for its time beside the fires committed ahead.
        if (at > now) this.ahead.retryEarly(key, at);
        else this.runs.retryDue(key.slice(RETRY_KEY_PREFIX.length));
        return;
      }
      const job = jobs.get(key);
      const schedule = job === undefined ? undefined : this.jobs.schedule(job);
      if (job === undefined || schedule === undefined || !job.enabled || job.completedAt !== null) return;
      this.slots.due(job, schedule, at, now);
    }, { beforeYield: () => this.#sendTurn(), afterYield: () => { now = this.#d.clock.now(); } });
    await this.endTurn();
  }

  /**
   * Fires one slot (or one triggered run): the overlap policy decides in memory; the slot's
   * outcome and its run go to the open batch together (a slot already recorded is deduped: no slot
   * ever runs twice); the run waits for capacity once that batch is durable.
   */
  fireSlot(job: Job, slotAt: number, trigger: RunTrigger, slotted: boolean, event: RunEvent | null = null): Run {
    const verdict = this.runs.verdict(job);
    // Catch-up runs the policy chose are not skipped by overlap: they wait their turn, one by one.
    if (trigger === 'catch-up' && verdict.decision === 'skip') verdict.decision = 'enqueue';
    const now = this.#d.clock.now();
    if (verdict.decision === 'skip') {
      // A skipped fire is a `skipped` run in history (counted in stats and metrics), beside its slot.
      const skipped = abandonRun(newRun(job, trigger, slotAt, 1, now), 'skipped', verdict.reason ?? 'overlap policy', now);
      const published = (writtenOff: boolean): void => {
        if (!writtenOff) this.#d.bus.publish({ type: 'run.finished', at: iso(this.#d.clock.now()), run: skipped });
      };
      if (slotted) this.slots.record(job, slotAt, 'skipped', skipped, verdict.reason, published);
      else this.commit.add({ runs: [skipped] }, (result) => published(result.dropped.includes(job.id)));
      return skipped;
    }
    const run = newRun(job, trigger, slotAt, 1, now);
    this.runs.fired(job.id);
    if (event !== null) this.runs.attachEvent(run.id, event);
    const after = (writtenOff: boolean): void => this.runs.fireDurable(job, run, verdict.decision, writtenOff);
    if (slotted) this.slots.record(job, slotAt, trigger === 'catch-up' ? 'caught-up' : 'fired', run, null, after);
    else this.commit.add({ runs: [run] }, (result) => after(result.dropped.includes(job.id)));
    return run;
  }

  /** A watch or usage trigger of the job fired: the job runs (trigger `event`), under its overlap policy. */
  async #triggerFired(jobId: string, reason: string, event: RunEvent | null): Promise<void> {
    if (this.#stopping) return;
    const job = await this.jobs.job(jobId);
    if (job === undefined || !job.enabled || job.completedAt !== null) return;
    this.#d.logger.info({ jobId, name: job.name, reason }, 'trigger fired');
    const now = this.#d.clock.now();
    this.triggerLog.note(job, eventTriggerKey(job, reason), reason, this.fireSlot(job, now, 'event', false, event), now);
    await this.endTurn();
  }

  /** Jobs with `--after JOB[:outcome]` on this job run when its final attempt ends that way. */
  async #fireDependents(job: Job, run: Run): Promise<void> {
    if (this.#stopping) return;
    const outcome = run.status === 'succeeded' ? 'succeeded' : 'failed';
    for (const id of this.index.dependentsOf(job)) {
      const dep = await this.jobs.job(id);
      if (dep === undefined || !dep.enabled || dep.completedAt !== null) continue;
      const key = afterTriggerKey(dep, job, outcome);
      if (key === null) continue;
      const now = this.#d.clock.now();
      this.triggerLog.note(dep, key, `after ${job.name} ${run.status} (${run.id})`, this.fireSlot(dep, now, 'dependency', false), now);
    }
    await this.endTurn();
  }

  #refuseIfStopping(): void {
    if (this.#stopping) throw new ShutdownError('the scheduler is shutting down');
  }
}
