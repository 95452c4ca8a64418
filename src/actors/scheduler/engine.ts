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
 *
 * This file holds the handlers table, the turn, start-up, reload and shutdown; job administration
 * and the job caches are {@link JobDesk} (job-desk.ts), firing slots and runs is {@link Firing}
 * (firing.ts). The engine owns both and hands each what it needs; the stop flag and the current
 * run book stay here.
 */
import type { Logger } from '../../model';
import { ActorStoppedError, ShutdownError } from '../../errors';
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
import { iso } from './runs';
import { RunBook } from './runbook';
import { Arming, SlotKeeper } from './slots';
import { Committer } from './committer';
import { FiresAhead } from './fires-ahead';
import { JobDesk } from './job-desk';
import { Firing } from './firing';
import { killOrphans } from './orphans';
import { killRunGroups } from '../../workers/run/cgroup';
import type { TriggerHandlers } from '../triggers/actor';
import { RETRY_KEY_PREFIX } from '../queue/actor';
import { loadJobs } from './startup';
import { TriggerLog } from './trigger-log';

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
  /** Slots, manual and triggered runs fired (firing.ts). */
  readonly #firing: Firing;
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
      fire: (job, slotAt, trigger, slotted) => this.#firing.fireSlot(job, slotAt, trigger, slotted),
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
    this.#firing = new Firing({
      ...this.#d, index: this.index, jobs: this.jobs, slots: this.slots, ahead: this.ahead, commit: this.commit,
      triggerLog: this.triggerLog,
      runs: () => this.runs,
      stopping: () => this.#stopping,
      refuseIfStopping: () => this.#refuseIfStopping(),
      sendTurn: () => this.#sendTurn(),
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
      runNow: (p: { ref: string }) => this.#firing.runNow(p.ref),
      /**
       * Many `runNow` in one message (the facade coalesces concurrent callers): one answer per ref
       * (a run or the error refusing it) and ONE `durable`, settled once every run is on disk.
       */
      runNowMany: (p: { refs: string[] }) => this.#firing.runNowMany(p.refs),
      runningCount: (_p: Record<string, never>) => this.runs.runningCount,
      pendingCount: (_p: Record<string, never>) => this.runs.pendingCount,
      readyCount: (_p: Record<string, never>) => this.runs.readyCount,
      slotsDue: (p: { due: Array<{ jobId: string; at: number }> }) => this.#firing.slotsDue(p.due),
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
      finalOutcome: (p: { job: Job; run: Run }) => this.#firing.fireDependents(p.job, p.run),
      triggerFired: (p: { jobId: string; reason: string; event?: RunEvent | null }) => this.#firing.triggerFired(p.jobId, p.reason, p.event ?? null),
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
    this.#firing.abandon();
  }

  // ---- live facts, read beside the mailbox ---------------------------------------------------
  // The read path (src/reads) runs on this same thread between messages, so it may look at these
  // maps without a message: it sees them as of the last await of whatever handler is in flight.

  /** The job's runs executing now (and those that ended whose final record is not durable yet). */
  runningOf(jobId: string): Run[] {
    return this.runs.shownRunningOf(jobId);
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

  /** {@link Firing.fireSlot}: one slot or one triggered run (start-up's `@reboot` fires). */
  fireSlot(job: Job, slotAt: number, trigger: RunTrigger, slotted: boolean, event: RunEvent | null = null): Run {
    return this.#firing.fireSlot(job, slotAt, trigger, slotted, event);
  }

  #refuseIfStopping(): void {
    if (this.#stopping) throw new ShutdownError('the scheduler is shutting down');
  }
}
