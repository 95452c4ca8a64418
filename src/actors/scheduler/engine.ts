/**
 * The scheduler actor's behaviour: job lifecycle and the life of every slot and run. It runs on the
 * main thread, one message at a time, so its maps need no locks. It asks the parser and persistence
 * (thread actors) and the queue and executor (main-thread actors); none of those ever asks back, so
 * no cycle of waits can form. Progress from the queue's timer and the executor arrives as messages.
 */
import type { Logger } from '../../api';
import { NotFoundError, ShutdownError } from '../../errors';
import type { Job } from '../../model/job';
import type { Run, RunTrigger } from '../../model/run';
import type { SchedulerEvent } from '../../model/events';
import type { Clock } from '../../runtime/clock';
import type { EventBus } from '../../runtime/event-bus';
import type { ActorRef } from '../../runtime/types';
import type { ParserHandlers } from '../parser/actor';
import { ScheduleMath, type Schedule } from '../parser/schedule';
import { LRUCache } from 'lru-cache';
import { JobIndex, factsOf, kindOf } from './job-index';
import type { PersistenceHandlers, ScheduleState } from '../persistence/actor';
import type { JobPageEntry } from '../persistence/store';
import type { QueueHandlers } from '../queue/actor';
import type { ExecutorHandlers } from '../executor/actor';
import type { RunEvent, RunResult } from '../executor/types';
import { prepareNewJob } from './new-job';
import { abandonRun, iso, jobState, newRun } from './runs';
import { RunBook } from './runbook';
import { SlotKeeper } from './slots';
import { killOrphans } from './orphans';
import type { TriggerHub } from '../triggers';
import { RETRY_KEY_PREFIX } from '../queue/actor';

/** What the engine talks to. */
export interface EngineDeps {
  clock: Clock;
  logger: Logger;
  mode: 'active' | 'offline';
  maxConcurrent: number;
  parser: ActorRef<ParserHandlers>;
  persistence: ActorRef<PersistenceHandlers>;
  queue: ActorRef<QueueHandlers>;
  executor: ActorRef<ExecutorHandlers>;
  bus: EventBus<SchedulerEvent>;
  /** File and usage triggers; null in offline mode (nothing fires there). */
  triggers: TriggerHub | null;
}

/** Job specs and parsed schedules kept in memory at once; the rest are read from the store. */
const JOB_CACHE_SIZE = 10_000;
/** Jobs read from the store per message at start-up. */
const LOAD_PAGE = 2000;

/** The scheduler actor's messages. */
export type SchedulerHandlers = ReturnType<Engine['handlers']>;

/** State and handlers of the scheduler actor. */
export class Engine {
  readonly #d: EngineDeps;
  /** Every job's id, name and flags (specs stay in the store). */
  readonly #index = new JobIndex();
  /** Recently used job specs. */
  readonly #jobs = new LRUCache<string, Job>({ max: JOB_CACHE_SIZE });
  /** Parsed schedules by zone and canonical text (many jobs share a few schedules). */
  readonly #schedules = new LRUCache<string, Schedule>({ max: JOB_CACHE_SIZE });
  /** Main-thread schedule maths with its own caches (stored schedules were validated by the parser thread). */
  readonly #math = new ScheduleMath();
  readonly #slots: SlotKeeper;
  #runs: RunBook;
  #stopping = false;

  constructor(deps: EngineDeps) {
    this.#d = deps;
    this.#slots = new SlotKeeper({
      clock: deps.clock,
      persistence: deps.persistence,
      queue: deps.queue,
      bus: deps.bus,
      logger: deps.logger,
      fire: (job, slotAt, trigger, state) => this.#fireSlot(job, slotAt, trigger, state),
      complete: (job) => this.#complete(job),
      scheduleOf: (job) => this.#schedule(job),
    });
    this.#runs = this.#newRunBook();
  }

  #newRunBook(): RunBook {
    const d = this.#d;
    return new RunBook({
      clock: d.clock, maxConcurrent: d.maxConcurrent, persistence: d.persistence, queue: d.queue,
      executor: d.executor, bus: d.bus,
      jobOf: (jobId) => this.#job(jobId),
      onFinal: (job, run) => this.#fireDependents(job, run),
    });
  }

  /** The message handlers (bound). */
  handlers() {
    return {
      load: (p: { start: boolean; reboot: boolean }) => this.#load(p.start, p.reboot),
      reload: (_p: Record<string, never>) => this.#reload(),
      executorLost: (_p: Record<string, never>) => this.#runs.executorLost(),
      addJob: (p: { spec: unknown }) => this.#addJob(p.spec),
      removeJob: (p: { ref: string }) => this.#removeJob(p.ref),
      setEnabled: (p: { ref: string; enabled: boolean }) => this.#setEnabled(p.ref, p.enabled),
      runNow: (p: { ref: string }) => this.#runNow(p.ref),
      runningCount: (_p: Record<string, never>) => this.#runs.runningCount,
      pendingCount: (_p: Record<string, never>) => this.#runs.pendingCount,
      slotsDue: (p: { due: Array<{ jobId: string; at: number }> }) => this.#slotsDue(p.due),
      clockJumped: async (p: { deltaMs: number }) => this.#slots.clockJumped(await this.#activeJobs(), p.deltaMs),
      rearm: (_p: Record<string, never>) => this.#rearmAll(),
      runFinished: (p: { runId: string; result: RunResult }) => this.#runs.finished(p.runId, p.result),
      triggerFired: (p: { jobId: string; reason: string; event?: RunEvent | null }) => this.#triggerFired(p.jobId, p.reason, p.event ?? null),
      beginShutdown: async (_p: Record<string, never>) => {
        this.#stopping = true;
        this.#runs.stop();
        await this.#d.triggers?.stop();
      },
      drain: (_p: Record<string, never>) => this.#runs.runningCount,
    };
  }

  // ---- live facts, read beside the mailbox ---------------------------------------------------
  // The read path (src/reads) runs on this same thread between messages, so it may look at these
  // maps without a message: it sees them as of the last await of whatever handler is in flight.

  /** The job's runs executing now. */
  runningOf(jobId: string): Run[] {
    return this.#runs.runningOf(jobId);
  }

  /** Runs executing now. */
  get runningCount(): number {
    return this.#runs.runningCount;
  }

  /** Job counts of the index. */
  jobCounts(): { total: number; enabled: number; paused: number; done: number } {
    return this.#index.counts();
  }

  // ---- start-up ----------------------------------------------------------------------------

  /**
   * Loads the job index page by page (both modes). With `start` (active mode) it also arms every
   * job: straight from its stored next slot when that is still ahead, or through recovery (missed
   * slots, catch-up) when it is not; then it recovers runs a crash left behind.
   */
  async #load(start: boolean, reboot: boolean): Promise<void> {
    const now = this.#d.clock.now();
    // Runs a crash left behind are read before anything fires, so a run queued below is not among them.
    const unfinished = start ? await this.#d.persistence.ask('listUnfinishedRuns', {}) : [];
    let after: string | null = null;
    for (;;) {
      const page: JobPageEntry[] = await this.#d.persistence.ask('jobPage', { after, limit: LOAD_PAGE, now });
      const entries: Array<{ jobId: string; at: number }> = [];
      const states: ScheduleState[] = [];
      for (const { head, state, job } of page) {
        if (job === null) {
          // The head is enough: paused, done, or its next slot is stored and still ahead.
          this.#index.set(head, 'timed');
          const entry = start && head.enabled && !head.done ? this.#slots.entryFromState(head, state, now) : null;
          if (entry !== null) entries.push(entry);
          continue;
        }
        const schedule = this.#schedule(job);
        this.#index.set(factsOf(job), kindOf(schedule ?? null));
        if (!start || schedule === undefined || !job.enabled || job.completedAt !== null) continue;
        await this.#watch(job);
        if (schedule.kind === 'event') {
          if (schedule.event === 'reboot' && reboot) await this.#fireSlot(job, now, 'event', null);
          continue;
        }
        const entry = this.#slots.entryFromState(job, state, now);
        if (entry !== null) {
          entries.push(entry);
          continue;
        }
        const plan = this.#slots.planArm(job, schedule, state, now);
        if (plan === null) {
          await this.#slots.recover(job, schedule, now);
          continue;
        }
        states.push(plan.state);
        if (plan.entry !== null) entries.push(plan.entry);
      }
      if (states.length > 0) await this.#d.persistence.ask('putScheduleStates', { states });
      if (entries.length > 0) await this.#d.queue.ask('armMany', { entries });
      if (page.length < LOAD_PAGE) break;
      after = page[page.length - 1]!.head.id;
    }
    if (!start) return;
    const orphans = killOrphans(new Set(unfinished.filter((r) => r.status === 'running').map((r) => r.id)));
    if (orphans.killed.length > 0) {
      this.#d.logger.warn({ pids: orphans.killed }, 'killed processes left running by a previous scheduler');
    }
    for (const run of unfinished) {
      const job = await this.#job(run.jobId);
      if (job !== undefined) await this.#runs.recover(job, run);
    }
    this.#d.bus.publish({ type: 'scheduler.started', at: iso(now) });
    await this.#runs.pump();
  }

  /** After a restore: forget everything, reload from the store, re-arm. */
  async #reload(): Promise<void> {
    // The restored jobs set up their own triggers below; the replaced jobs' watches must not stay open.
    await this.#d.triggers?.clear();
    for (const id of [...this.#index.active()]) {
      await this.#runs.dropJob(id);
      await this.#d.queue.ask('disarm', { key: id });
      this.#slots.forget(id);
    }
    this.#runs = this.#newRunBook();
    this.#jobs.clear();
    this.#index.clear();
    await this.#load(this.#d.mode === 'active', false);
  }

  async #rearmAll(): Promise<void> {
    for (const job of await this.#activeJobs()) {
      const schedule = this.#schedule(job);
      if (schedule !== undefined && schedule.kind !== 'event') await this.#slots.arm(job, schedule, this.#d.clock.now());
    }
    await this.#runs.rearm();
  }

  // ---- job lifecycle -----------------------------------------------------------------------

  async #addJob(input: unknown): Promise<Job> {
    this.#refuseIfStopping();
    const now = this.#d.clock.now();
    const { job, schedule } = await prepareNewJob(input, {
      now,
      idOf: (ref) => this.#index.idOf(ref),
      hasName: (name) => this.#index.hasName(name),
      jobOf: (id) => this.#job(id),
      parse: (text, tz, at) => this.#d.parser.ask('parse', { text, tz, now: at }),
    });
    // Watches are set up before the job is stored, so a path that cannot be watched stores nothing.
    if (job.enabled) await this.#d.triggers?.set(job.id, job.triggers);
    try {
      await this.#d.persistence.ask('insertJob', { job });
    } catch (err) {
      await this.#d.triggers?.remove(job.id);
      throw err;
    }
    this.#jobs.set(job.id, job);
    this.#index.set(factsOf(job), kindOf(schedule));
    const state: ScheduleState = { jobId: job.id, lastSlotAt: null, nextRunAt: null, anchorAt: job.createdAt };
    await this.#d.persistence.ask('putScheduleState', { jobId: job.id, state });
    if (this.#d.mode === 'active' && job.enabled && schedule.kind !== 'event') await this.#slots.arm(job, schedule, now);
    const shown = await this.#present(job);
    this.#d.bus.publish({ type: 'job.added', at: iso(now), job: shown });
    return shown;
  }

  async #removeJob(ref: string): Promise<void> {
    const job = await this.#find(ref);
    const now = this.#d.clock.now();
    await this.#d.triggers?.remove(job.id);
    await this.#runs.dropJob(job.id);
    await this.#d.queue.ask('disarm', { key: job.id });
    await this.#d.persistence.ask('deleteJob', { id: job.id });
    this.#jobs.delete(job.id);
    this.#index.delete(job);
    this.#slots.forget(job.id);
    this.#d.bus.publish({ type: 'job.removed', at: iso(now), jobId: job.id, name: job.name });
  }

  async #setEnabled(ref: string, enabled: boolean): Promise<Job> {
    const job = await this.#find(ref);
    const now = this.#d.clock.now();
    if (job.enabled !== enabled) {
      const updated: Job = { ...job, enabled, updatedAt: iso(now) };
      await this.#d.persistence.ask('updateJob', { job: updated });
      this.#jobs.set(job.id, updated);
      const schedule = this.#schedule(updated);
      this.#index.set(factsOf(updated), kindOf(schedule ?? null));
      if (!enabled) {
        await this.#d.triggers?.remove(job.id);
        await this.#d.queue.ask('disarm', { key: job.id });
        this.#slots.forget(job.id);
      } else if (this.#d.mode === 'active' && schedule !== undefined && updated.completedAt === null) {
        // Slots while paused are not "missed": account for them up to now, then arm the next one.
        await this.#watch(updated);
        if (schedule.kind !== 'event') await this.#slots.resume(updated, schedule, now);
      }
      const shown = await this.#present(updated);
      this.#d.bus.publish({ type: 'job.updated', at: iso(now), job: shown });
      return shown;
    }
    return this.#present(job);
  }

  async #runNow(ref: string): Promise<Run> {
    this.#refuseIfStopping();
    const job = await this.#find(ref);
    const now = this.#d.clock.now();
    const run = newRun(job, 'manual', now, 1, now);
    // Queued first: a full queue refuses the caller (QueueFullError) and records nothing.
    await this.#runs.enqueue(job, run, { refuseWhenFull: true });
    await this.#d.persistence.ask('putRun', { run });
    this.#d.bus.publish({ type: 'run.queued', at: iso(now), run });
    await this.#runs.pump();
    return run;
  }

  async #complete(job: Job): Promise<void> {
    const done: Job = { ...job, completedAt: iso(this.#d.clock.now()), updatedAt: iso(this.#d.clock.now()) };
    await this.#d.persistence.ask('updateJob', { job: done });
    await this.#d.triggers?.remove(job.id);
    this.#jobs.set(job.id, done);
    this.#index.set(factsOf(done), kindOf(this.#schedule(done) ?? null));
  }

  // ---- firing ------------------------------------------------------------------------------

  async #slotsDue(due: Array<{ jobId: string; at: number }>): Promise<void> {
    if (this.#stopping) return;
    const now = this.#d.clock.now();
    for (const { jobId: key, at } of due) {
      if (key.startsWith(RETRY_KEY_PREFIX)) {
        await this.#runs.retryDue(key.slice(RETRY_KEY_PREFIX.length));
        continue;
      }
      const job = await this.#job(key);
      const schedule = job === undefined ? undefined : this.#schedule(job);
      if (job === undefined || schedule === undefined || !job.enabled || job.completedAt !== null) continue;
      await this.#slots.due(job, schedule, at, now);
    }
    await this.#runs.pump();
  }

  /**
   * Fires one slot: applies the overlap policy, records the slot's outcome together with its run in
   * one transaction (a slot already recorded is deduped: no slot ever runs twice), then queues the run.
   */
  async #fireSlot(job: Job, slotAt: number, trigger: RunTrigger, state: ScheduleState | null,
    event: RunEvent | null = null): Promise<void> {
    const now = this.#d.clock.now();
    const verdict = this.#slots.overlap(job, this.#runs.runningOf(job.id).length, await this.#runs.waitingOf(job.id));
    // Catch-up runs the policy chose are not skipped by overlap: they wait their turn, one by one.
    if (trigger === 'catch-up' && verdict.decision === 'skip') verdict.decision = 'enqueue';
    if (verdict.decision === 'skip') {
      // A skipped fire is a `skipped` run in history (counted in stats and metrics), beside its slot.
      const skipped = abandonRun(newRun(job, trigger, slotAt, 1, now), 'skipped', verdict.reason ?? 'overlap policy', now);
      if (state !== null) {
        if (!await this.#slots.record(job, slotAt, 'skipped', skipped, verdict.reason, state)) return;
      } else {
        await this.#d.persistence.ask('putRun', { run: skipped });
      }
      this.#d.bus.publish({ type: 'run.finished', at: iso(now), run: skipped });
      return;
    }
    const run = newRun(job, trigger, slotAt, 1, now);
    if (state !== null) {
      const outcome = trigger === 'catch-up' ? 'caught-up' : 'fired';
      if (!await this.#slots.record(job, slotAt, outcome, run, null, state)) return;
    } else {
      await this.#d.persistence.ask('putRun', { run });
    }
    this.#d.bus.publish({ type: 'run.queued', at: iso(now), run });
    if (event !== null) this.#runs.attachEvent(run.id, event);
    if (verdict.decision === 'replace') await this.#runs.replace(job.id);
    if (verdict.decision === 'enqueue') this.#runs.hold(job, run);
    else await this.#runs.enqueue(job, run);
  }

  /** A watch or usage trigger of the job fired: the job runs (trigger `event`), under its overlap policy. */
  async #triggerFired(jobId: string, reason: string, event: RunEvent | null): Promise<void> {
    if (this.#stopping) return;
    const job = await this.#job(jobId);
    if (job === undefined || !job.enabled || job.completedAt !== null) return;
    this.#d.logger.info({ jobId, name: job.name, reason }, 'trigger fired');
    await this.#fireSlot(job, this.#d.clock.now(), 'event', null, event);
    await this.#runs.pump();
  }

  /** (Re)subscribes a stored job's watch and usage triggers; a failure is logged, not fatal. */
  async #watch(job: Job): Promise<void> {
    if (this.#d.triggers === null || !job.triggers.some((t) => t.type !== 'after')) return;
    try {
      await this.#d.triggers.set(job.id, job.triggers);
    } catch (err) {
      this.#d.logger.error({ jobId: job.id, err: String(err) }, 'cannot set up the job\'s triggers');
    }
  }

  /** Jobs with `--after JOB[:outcome]` on this job run when its final attempt ends that way. */
  async #fireDependents(job: Job, run: Run): Promise<void> {
    const outcome = run.status === 'succeeded' ? 'succeeded' : 'failed';
    for (const id of this.#index.dependentsOf(job)) {
      const dep = await this.#job(id);
      if (dep === undefined || !dep.enabled || dep.completedAt !== null) continue;
      const hit = dep.triggers.some((t) => t.type === 'after' && (t.job === job.name || t.job === job.id) &&
        (t.on === 'finished' || t.on === outcome));
      if (hit) await this.#fireSlot(dep, this.#d.clock.now(), 'dependency', null);
    }
  }

  // ---- queries -----------------------------------------------------------------------------

  /** A job's spec: from the cache, else from the store. */
  async #job(id: string): Promise<Job | undefined> {
    const cached = this.#jobs.get(id);
    if (cached !== undefined || !this.#index.get(id)) return cached;
    const job = await this.#d.persistence.ask('getJob', { id });
    if (job !== null) this.#jobs.set(id, job);
    return job ?? undefined;
  }

  async #find(ref: string): Promise<Job> {
    const id = this.#index.idOf(ref);
    const job = id === undefined ? undefined : await this.#job(id);
    if (job === undefined) throw new NotFoundError(`job '${ref}' not found`);
    return job;
  }

  /**
   * A stored job's parsed schedule (undefined if it no longer parses). Stored text is canonical
   * (one-time forms are absolute), so parsing it again at any `now` gives the same schedule.
   */
  #schedule(job: Pick<Job, 'id' | 'schedule' | 'timezone'>): Schedule | undefined {
    const key = `${job.timezone ?? ''}\0${job.schedule}`;
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

  /** Jobs that may fire (read from the store: used only on rare events — clock jumps, queue restarts). */
  async #activeJobs(): Promise<Job[]> {
    const out: Job[] = [];
    for (const id of [...this.#index.active()]) {
      const job = await this.#job(id);
      if (job !== undefined) out.push(job);
    }
    return out;
  }

  async #present(job: Job): Promise<Job> {
    const lastRun = await this.#runs.lastRun(job.id);
    const schedule = this.#schedule(job);
    const next = await this.#slots.nextRunAt(job, schedule, this.#d.mode === 'active');
    return { ...job, nextRunAt: next === null ? null : iso(next), lastRun, state: jobState(job, schedule) };
  }

  #refuseIfStopping(): void {
    if (this.#stopping) throw new ShutdownError('the scheduler is shutting down');
  }
}
