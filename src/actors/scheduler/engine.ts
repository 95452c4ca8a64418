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
import { ActorDeadError, ActorStoppedError, ConflictError, NotFoundError, ShutdownError } from '../../errors';
import type { Job } from '../../model/job';
import type { Run, RunTrigger } from '../../model/run';
import type { SchedulerEvent } from '../../model/events';
import type { Clock } from '../../runtime/clock';
import type { EventBus } from '../../runtime/event-bus';
import { CRASH_HANDLER, type ActorRef } from '../../runtime/types';
import { runSliced } from '../../runtime/slice';
import type { ParserHandlers } from '../parser/actor';
import { ScheduleMath, type Schedule } from '../parser/schedule';
import { LRUCache } from 'lru-cache';
import { JobIndex, factsOf, kindOf } from './job-index';
import type { PersistenceHandlers, ScheduleState } from '../persistence/actor';
import type { BatchResult } from '../persistence/port';
import type { QueueHandlers } from '../queue/actor';
import type { ExecutorHandlers } from '../executor/actor';
import type { RunEvent, RunRequest, RunResult } from '../executor/types';
import { prepareNewJob } from './new-job';
import { abandonRun, iso, jobState, newRun } from './runs';
import { RunBook } from './runbook';
import { Arming, SlotKeeper } from './slots';
import { Committer } from './committer';
import { FiresAhead } from './fires-ahead';
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

/** Job specs and parsed schedules kept in memory at once; the rest are read from the store. */
const JOB_CACHE_SIZE = 10_000;

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
  /** Recently used job specs. */
  readonly #jobs = new LRUCache<string, Job>({ max: JOB_CACHE_SIZE });
  /** Parsed schedules by zone and canonical text (many jobs share a few schedules). */
  readonly #schedules = new LRUCache<string, Schedule>({ max: JOB_CACHE_SIZE });
  /** Main-thread schedule maths with its own caches (stored schedules were validated by the parser thread). */
  readonly #math = new ScheduleMath();
  /** Schedule texts (with zone) the parser thread accepted, as given to `addJob`. */
  readonly #validated = new LRUCache<string, Schedule>({ max: 1000 });
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
      complete: (job) => this.#complete(job),
      column: this.index.column(),
    });
    this.runs = this.#newRunBook();
    this.ahead = new FiresAhead({
      clock: deps.clock, bus: deps.bus, commit: this.commit, slots: this.slots, runs: () => this.runs,
      stopping: () => this.#stopping, current: (id) => this.#jobs.get(id),
      wake: () => this.#d.self().tell('dispatchDue', {}),
      retryDue: (key) => this.runs.retryDue(key.slice(RETRY_KEY_PREFIX.length)),
    });
    this.triggerLog = new TriggerLog(deps);
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
      addJob: (p: { spec: unknown }) => this.#addJob(p.spec),
      /** Many adds in one turn and one insert transaction; each answer carries its own `durable`. */
      addJobs: (p: { specs: unknown[] }) => this.#addJobs(p.specs),
      removeJob: (p: { ref: string }) => this.#removeJob(p.ref),
      setEnabled: (p: { ref: string; enabled: boolean }) => this.#setEnabled(p.ref, p.enabled),
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
        this.ahead.clockJumped(p.deltaMs, (job) => this.schedule(job)?.kind === 'interval');
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
      forgetJob: (p: { id: string }) => this.forgetJob(p.id),
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
    await loadJobs(this, { ...this.#d, start, reboot, remember: (job) => this.#jobs.set(job.id, job),
      schedule: (job) => this.schedule(job), watch: (job) => this.#watch(job), jobs: (ids) => this.jobsOf(ids) });
    if (start) this.#d.bus.publish({ type: 'scheduler.started', at: iso(this.#d.clock.now()) });
    await this.endTurn();
  }

  /** After a restore: forget everything, reload from the store, re-arm. */
  async #reload(): Promise<void> {
    // The restored jobs set up their own triggers below; the replaced jobs' watches must not stay open.
    this.#d.triggers?.tell('clear', {});
    for (const id of [...this.index.active()]) {
      this.runs.dropJob(id);
      this.arming.disarm(id);
      this.slots.forget(id);
      this.ahead.dropJob(id);
    }
    this.runs = this.#newRunBook();
    this.#jobs.clear();
    this.index.clear();
    await this.#load(this.#d.mode === 'active', false);
  }

  // ---- job lifecycle -----------------------------------------------------------------------

  async #addJob(input: unknown): Promise<{ job: Job; durable: Promise<Job> }> {
    const { items } = await this.#addJobs([input]);
    const item = items[0]!;
    if ('error' in item) throw item.error;
    return item;
  }

  /**
   * Many adds in ONE turn (the facade coalesces concurrent `addJob` callers): each spec is checked
   * on its own (one refused spec refuses only that add), schedule texts the parser thread has not
   * seen are asked for at once, every accepted job is indexed and armed, and all of them are stored
   * in ONE transaction (`insertJobs`). Each answer carries its own `durable`, settled once the
   * transaction is flushed; a job whose insert is refused or fails is forgotten again.
   */
  async #addJobs(inputs: unknown[]): Promise<{ items: Array<{ job: Job; durable: Promise<Job> } | { error: Error }> }> {
    this.#refuseIfStopping();
    const now = this.#d.clock.now();
    await this.#preParse(inputs, now);
    const items: Array<{ job: Job; durable: Promise<Job> } | { error: Error }> = [];
    const staged: Array<{ job: Job; state: ScheduleState; shown: Job; settle(err: Error | null): void; durable: Promise<Job> }> = [];
    for (const input of inputs) {
      try {
        const s = await this.#stageJob(input, now);
        let settle!: (err: Error | null) => void;
        const durable = new Promise<Job>((resolve, reject) => {
          settle = (err) => (err === null ? resolve(s.shown) : reject(err));
        });
        durable.catch(() => undefined);
        staged.push({ ...s, settle, durable });
        items.push({ job: s.shown, durable });
      } catch (err) {
        items.push({ error: err as Error });
      }
    }
    await this.endTurn();
    if (staged.length === 0) return { items };
    this.#d.persistence.ask('insertJobs', { entries: staged.map((s) => ({ job: s.job, state: s.state })) }).then(
      (refused) => {
        const at = iso(this.#d.clock.now());
        staged.forEach((s, i) => {
          const why = refused[i];
          if (why === null || why === undefined) {
            this.#d.bus.publish({ type: 'job.added', at, job: s.shown });
            s.settle(null);
          } else {
            this.#d.self().tell('forgetJob', { id: s.job.id });
            s.settle(new ConflictError(why));
          }
        });
      },
      (err: unknown) => {
        for (const s of staged) {
          this.#d.self().tell('forgetJob', { id: s.job.id });
          s.settle(err as Error);
        }
      },
    );
    return { items };
  }

  /** Schedule texts of a batch of adds that the parser thread has not validated yet: asked at once. */
  async #preParse(inputs: unknown[], now: number): Promise<void> {
    const texts = new Map<string, { text: string; tz: string | null }>();
    for (const input of inputs) {
      const spec = input as { schedule?: unknown; timezone?: unknown } | null;
      if (typeof spec?.schedule !== 'string') continue;
      const tz = typeof spec.timezone === 'string' ? spec.timezone : null;
      const key = `${tz ?? ''}\0${spec.schedule}`;
      if (!this.#validated.has(key)) texts.set(key, { text: spec.schedule, tz });
    }
    if (texts.size < 2) return;
    // Errors are left for each add's own check to report (it asks again).
    await Promise.all([...texts.values()].map((t) => this.#parse(t.text, t.tz, now).catch(() => undefined)));
  }

  /** Checks one spec and indexes and arms its job (not stored yet). */
  async #stageJob(input: unknown, now: number): Promise<{ job: Job; state: ScheduleState; shown: Job }> {
    const { job, schedule } = await prepareNewJob(input, {
      now,
      idOf: (ref) => this.index.idOf(ref),
      hasName: (name) => this.index.hasName(name),
      jobOf: (id) => this.#job(id),
      parse: (text, tz, at) => this.#parse(text, tz, at),
    });
    // A concurrent add with the same name may have been indexed while we waited for the parser.
    if (this.index.hasName(job.name)) throw new ConflictError(`name: a job named '${job.name}' already exists`);
    // Watches are set up before the job is stored, so a path that cannot be watched stores nothing.
    // (Asked with a deadline; the hub answers within its subscribe deadline even if the watcher hangs.)
    if (job.enabled && this.#d.triggers !== null && job.triggers.some((t) => t.type !== 'after')) {
      await this.#d.triggers.ask('set', { jobId: job.id, triggers: job.triggers, strict: true }, { timeoutMs: this.#d.stepTimeoutMs ?? 30_000 });
    }
    // The job is indexed (its name taken) and armed at once, so concurrent adds do not wait for
    // each other's flush: their inserts share one commit. Its first fire cannot overtake its
    // insert (the store commits in the order it was asked); if the insert fails, it is undone.
    this.#jobs.set(job.id, job);
    this.index.set(factsOf(job), kindOf(schedule));
    const state: ScheduleState = { jobId: job.id, lastSlotAt: null, nextRunAt: null, anchorAt: job.createdAt };
    this.#schedules.set(this.#scheduleKey(job), schedule);
    if (this.#d.mode === 'active' && job.enabled && schedule.kind !== 'event') {
      this.slots.load(job, schedule, state);
      this.slots.arm(job, schedule, now);
    }
    const first = this.slots.stateOf(job.id) ?? state;
    // The first state is written with the job (one transaction), not in a batch of its own.
    this.commit.unstage(job.id);
    const shown: Job = { ...job, nextRunAt: first.nextRunAt, lastRun: null, state: jobState(job) };
    return { job, state: first, shown };
  }

  /**
   * The parser thread validates schedule text; text it already accepted (not a one-time form,
   * which depends on `now`) is not sent again — bulk adds usually share a few schedules.
   */
  async #parse(text: string, tz: string | null, now: number): Promise<Schedule> {
    const key = `${tz ?? ''}\0${text}`;
    const known = this.#validated.get(key);
    if (known !== undefined) return known;
    const schedule = await this.#d.parser.ask('parse', { text, tz, now });
    if (schedule.kind !== 'once') this.#validated.set(key, schedule);
    return schedule;
  }

  /** An insert failed: the job never existed. */
  async forgetJob(id: string): Promise<void> {
    const job = this.#jobs.get(id);
    if (job === undefined) return;
    this.#d.triggers?.tell('remove', { jobId: id });
    this.runs.dropJob(id);
    this.arming.disarm(id);
    this.slots.forget(id);
    this.ahead.dropJob(id);
    this.index.delete(job);
    this.#jobs.delete(id);
    await this.endTurn();
  }

  async #removeJob(ref: string): Promise<void> {
    const job = await this.#find(ref);
    const now = this.#d.clock.now();
    this.#d.triggers?.tell('remove', { jobId: job.id });
    this.runs.dropJob(job.id);
    this.arming.disarm(job.id);
    this.slots.forget(job.id);
    this.ahead.dropJob(job.id);
    await this.endTurn();
    await this.#d.persistence.ask('deleteJob', { id: job.id });
    this.#jobs.delete(job.id);
    this.index.delete(job);
    this.#d.bus.publish({ type: 'job.removed', at: iso(now), jobId: job.id, name: job.name });
  }

  async #setEnabled(ref: string, enabled: boolean): Promise<Job> {
    const job = await this.#find(ref);
    const now = this.#d.clock.now();
    if (job.enabled === enabled) return this.#present(job);
    const updated: Job = { ...job, enabled, updatedAt: iso(now) };
    await this.#d.persistence.ask('updateJob', { job: updated });
    this.#jobs.set(job.id, updated);
    this.runs.updateJob(updated);
    const schedule = this.schedule(updated);
    this.index.set(factsOf(updated), kindOf(schedule ?? null));
    if (!enabled) {
      this.#d.triggers?.tell('remove', { jobId: job.id });
      this.arming.disarm(job.id);
      this.slots.pause(job.id);
      this.ahead.withdrawJob(job.id);
    } else if (this.#d.mode === 'active' && schedule !== undefined && updated.completedAt === null) {
      // Slots while paused are not "missed": account for them up to now, then arm the next one.
      this.#watch(updated);
      if (schedule.kind !== 'event') {
        const stored = this.slots.pausedState(job.id) ?? await this.#d.persistence.ask('getScheduleState', { jobId: job.id });
        this.slots.resume(updated, schedule, stored, now);
      }
    }
    await this.endTurn();
    const shown = await this.#present(updated);
    this.#d.bus.publish({ type: 'job.updated', at: iso(now), job: shown });
    return shown;
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
    const jobs = await this.jobsOf([...new Set(ids.filter((id): id is string => id !== undefined))]);
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

  #complete(job: Job): void {
    const done: Job = { ...job, completedAt: iso(this.#d.clock.now()), updatedAt: iso(this.#d.clock.now()) };
    // Not awaited: if it is lost, the next start finds the one slot recorded and completes the job again.
    this.#d.persistence.ask('updateJob', { job: done }).catch((err: unknown) =>
      this.#d.logger.warn({ jobId: job.id, err: String(err) }, 'could not mark a one-time job done'));
    this.#d.triggers?.tell('remove', { jobId: job.id });
    this.#jobs.set(job.id, done);
    this.slots.forget(job.id);
    this.index.set(factsOf(done), kindOf(this.schedule(done) ?? null));
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
    const jobs = await this.jobsOf(due.filter((e) => !e.jobId.startsWith(RETRY_KEY_PREFIX)).map((e) => e.jobId));
    await runSliced(due, ({ jobId: key, at }) => {
      if (key.startsWith(RETRY_KEY_PREFIX)) {
        // Handed over within the timer's lead: it waits for its time beside the fires committed ahead.
        if (at > now) this.ahead.retryEarly(key, at);
        else this.runs.retryDue(key.slice(RETRY_KEY_PREFIX.length));
        return;
      }
      const job = jobs.get(key);
      const schedule = job === undefined ? undefined : this.schedule(job);
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
    const job = await this.#job(jobId);
    if (job === undefined || !job.enabled || job.completedAt !== null) return;
    this.#d.logger.info({ jobId, name: job.name, reason }, 'trigger fired');
    const now = this.#d.clock.now();
    this.triggerLog.note(job, eventTriggerKey(job, reason), reason, this.fireSlot(job, now, 'event', false, event), now);
    await this.endTurn();
  }

  /**
   * (Re)subscribes a stored job's watch and usage triggers. Told, never awaited: a path that
   * cannot be watched now is marked dead in health and retried by the triggers actor.
   */
  #watch(job: Job): void {
    if (this.#d.triggers === null || !job.triggers.some((t) => t.type !== 'after')) return;
    this.#d.triggers.tell('set', { jobId: job.id, triggers: job.triggers, strict: false });
  }

  /** Jobs with `--after JOB[:outcome]` on this job run when its final attempt ends that way. */
  async #fireDependents(job: Job, run: Run): Promise<void> {
    if (this.#stopping) return;
    const outcome = run.status === 'succeeded' ? 'succeeded' : 'failed';
    for (const id of this.index.dependentsOf(job)) {
      const dep = await this.#job(id);
      if (dep === undefined || !dep.enabled || dep.completedAt !== null) continue;
      const key = afterTriggerKey(dep, job, outcome);
      if (key === null) continue;
      const now = this.#d.clock.now();
      this.triggerLog.note(dep, key, `after ${job.name} ${run.status} (${run.id})`, this.fireSlot(dep, now, 'dependency', false), now);
    }
    await this.endTurn();
  }

  // ---- queries -----------------------------------------------------------------------------

  /** A job's spec: from the cache, else from the store. */
  async #job(id: string): Promise<Job | undefined> {
    return (await this.jobsOf([id])).get(id);
  }

  /** Specs of these jobs: from the cache, the rest in ONE store read. */
  async jobsOf(ids: string[]): Promise<Map<string, Job>> {
    const out = new Map<string, Job>();
    const missing: string[] = [];
    for (const id of ids) {
      const cached = this.#jobs.get(id);
      if (cached !== undefined) out.set(id, cached);
      else if (this.index.get(id) !== undefined) missing.push(id);
    }
    if (missing.length > 0) {
      for (const job of await this.#d.persistence.ask('getJobs', { ids: missing })) {
        this.#jobs.set(job.id, job);
        out.set(job.id, job);
      }
    }
    return out;
  }

  async #find(ref: string): Promise<Job> {
    const id = this.index.idOf(ref);
    const job = id === undefined ? undefined : await this.#job(id);
    if (job === undefined) throw new NotFoundError(`job '${ref}' not found`);
    return job;
  }

  #scheduleKey(job: Pick<Job, 'schedule' | 'timezone'>): string {
    return `${job.timezone ?? ''}\0${job.schedule}`;
  }

  /**
   * A stored job's parsed schedule (undefined if it no longer parses). Stored text is canonical
   * (one-time forms are absolute), so parsing it again at any `now` gives the same schedule.
   */
  schedule(job: Pick<Job, 'id' | 'schedule' | 'timezone'>): Schedule | undefined {
    const key = this.#scheduleKey(job);
    let s = this.#schedules.get(key);
    if (s === undefined) {
      try {
        s = this.#math.parse(job.schedule, { tz: job.timezone, now: this.#d.clock.now() });
      } catch (err) {
        this.#d.logger.error({ jobId: job.id, err: String(err) }, 'stored schedule no longer parses; job not armed');
        return undefined;
      }
      this.#schedules.set(key, s);
    }
    return s;
  }

  async #present(job: Job): Promise<Job> {
    let lastRun = this.runs.cachedLastRun(job.id) ?? null;
    if (lastRun === null) {
      lastRun = (await this.#d.persistence.ask('listRuns', { jobId: job.id, limit: 1 }))[0] ?? null;
      if (lastRun !== null) this.runs.rememberLastRun(lastRun);
    }
    const schedule = this.schedule(job);
    const timed = job.enabled && job.completedAt === null && schedule !== undefined && schedule.kind !== 'event';
    const stored = timed && !this.slots.has(job.id) ? await this.#d.persistence.ask('getScheduleState', { jobId: job.id }) : null;
    const next = this.slots.nextRunAt(job, schedule, stored);
    return { ...job, nextRunAt: next === null ? null : iso(next), lastRun, state: jobState(job) };
  }

  #refuseIfStopping(): void {
    if (this.#stopping) throw new ShutdownError('the scheduler is shutting down');
  }
}
