/**
 * Job administration of the scheduler actor: adding (checked, indexed, armed and stored in one
 * transaction per batch), removing, pausing and resuming jobs, marking a one-time job done, and
 * the bounded caches of job specs and parsed schedules that every part of the engine reads through.
 * Owned by the Engine (engine.ts) and only called from its mailbox (one message at a time: no locks).
 */
import type { Logger } from '../../model';
import { ConflictError, NotFoundError } from '../../errors';
import type { Job } from '../../model/job';
import type { SchedulerEvent } from '../../model/events';
import type { Clock } from '../../runtime/clock';
import type { EventBus } from '../../runtime/event-bus';
import type { ActorRef } from '../../runtime/types';
import type { ParserHandlers } from '../parser/actor';
import type { Schedule } from '../parser/schedule';
import { ScheduleCache } from '../parser/schedule-cache';
import { scheduleKey } from '../parser/schedule-key';
import { LRUCache } from 'lru-cache';
import { factsOf, kindOf, type JobIndex } from './job-index';
import type { PersistenceHandlers, ScheduleState } from '../persistence/actor';
import type { TriggerHandlers } from '../triggers/actor';
import { prepareNewJob } from './new-job';
import { iso, jobState, lastRunOf } from './runs';
import type { RunBook } from './runbook';
import type { Arming, SlotKeeper } from './slots';
import type { Committer } from './committer';
import type { FiresAhead } from './fires-ahead';

/** Job specs and parsed schedules kept in memory at once; the rest are read from the store. */
const JOB_CACHE_SIZE = 10_000;

/** What job administration needs from the engine. */
export interface JobDeskDeps {
  clock: Clock;
  logger: Logger;
  mode: 'active' | 'offline';
  parser: ActorRef<ParserHandlers>;
  persistence: ActorRef<PersistenceHandlers>;
  bus: EventBus<SchedulerEvent>;
  /** The triggers actor; null in offline mode (nothing fires there). */
  triggers: ActorRef<TriggerHandlers> | null;
  /** Longest a trigger subscription at add may take. @default 30000 */
  stepTimeoutMs?: number;
  index: JobIndex;
  arming: Arming;
  slots: SlotKeeper;
  ahead: FiresAhead;
  commit: Committer;
  /** The current run book (a reload replaces it). */
  runs(): RunBook;
  /** Tells the scheduler's mailbox to forget a job whose insert failed (`forgetJob`). */
  forget(jobId: string): void;
  /** Throws ShutdownError once a graceful stop began. */
  refuseIfStopping(): void;
  /** Ends the turn: sends the starts, the commit and the timeline changes collected (engine.ts). */
  endTurn(): Promise<void>;
}

/** Job administration and the job caches (see the file comment). */
export class JobDesk {
  readonly #d: JobDeskDeps;
  /** Recently used job specs. */
  readonly #jobs = new LRUCache<string, Job>({ max: JOB_CACHE_SIZE });
  /** Stored schedules parsed on this thread by zone and canonical text (many jobs share a few schedules). */
  readonly #schedules: ScheduleCache;
  /** Schedule texts (with zone) the parser thread accepted, as given to `addJob`. */
  readonly #validated = new LRUCache<string, Schedule>({ max: 1000 });

  constructor(deps: JobDeskDeps) {
    this.#d = deps;
    this.#schedules = new ScheduleCache({
      max: JOB_CACHE_SIZE, now: () => deps.clock.now(),
      onInvalid: (job, err) => deps.logger.error({ jobId: job.id, err: String(err) }, 'stored schedule no longer parses; job not armed'),
    });
  }

  /** One add: {@link JobDesk.addJobs} of one spec; throws its refusal. */
  async addJob(input: unknown): Promise<{ job: Job; durable: Promise<Job> }> {
    const { items } = await this.addJobs([input]);
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
  async addJobs(inputs: unknown[]): Promise<{ items: Array<{ job: Job; durable: Promise<Job> } | { error: Error }> }> {
    this.#d.refuseIfStopping();
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
    await this.#d.endTurn();
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
            this.#d.forget(s.job.id);
            s.settle(new ConflictError(why));
          }
        });
      },
      (err: unknown) => {
        for (const s of staged) {
          this.#d.forget(s.job.id);
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
      const key = scheduleKey({ schedule: spec.schedule, timezone: tz });
      if (!this.#validated.has(key)) texts.set(key, { text: spec.schedule, tz });
    }
    if (texts.size < 2) return;
    // Errors are left for each add's own check to report (it asks again).
    await Promise.all([...texts.values()].map((t) => this.#parse(t.text, t.tz, now).catch(() => undefined)));
  }

  /** Checks one spec and indexes and arms its job (not stored yet). */
  async #stageJob(input: unknown, now: number): Promise<{ job: Job; state: ScheduleState; shown: Job }> {
    const { index } = this.#d;
    const { job, schedule } = await prepareNewJob(input, {
      now,
      idOf: (ref) => index.idOf(ref),
      hasName: (name) => index.hasName(name),
      jobOf: (id) => this.job(id),
      parse: (text, tz, at) => this.#parse(text, tz, at),
    });
    // A concurrent add with the same name may have been indexed while we waited for the parser.
    if (index.hasName(job.name)) throw new ConflictError(`name: a job named '${job.name}' already exists`);
    // Watches are set up before the job is stored, so a path that cannot be watched stores nothing.
    // (Asked with a deadline; the hub answers within its subscribe deadline even if the watcher hangs.)
    if (job.enabled && this.#d.triggers !== null && job.triggers.some((t) => t.type !== 'after')) {
      await this.#d.triggers.ask('set', { jobId: job.id, triggers: job.triggers, strict: true }, { timeoutMs: this.#d.stepTimeoutMs ?? 30_000 });
    }
    // The job is indexed (its name taken) and armed at once, so concurrent adds do not wait for
    // each other's flush: their inserts share one commit. Its first fire cannot overtake its
    // insert (the store commits in the order it was asked); if the insert fails, it is undone.
    this.#jobs.set(job.id, job);
    index.set(factsOf(job), kindOf(schedule));
    const state: ScheduleState = { jobId: job.id, lastSlotAt: null, nextRunAt: null, anchorAt: job.createdAt };
    this.#schedules.set(job, schedule);
    if (this.#d.mode === 'active' && job.enabled && schedule.kind !== 'event') {
      this.#d.slots.load(job, schedule, state);
      this.#d.slots.arm(job, schedule, now);
    }
    const first = this.#d.slots.stateOf(job.id) ?? state;
    // The first state is written with the job (one transaction), not in a batch of its own.
    this.#d.commit.unstage(job.id);
    const shown: Job = { ...job, nextRunAt: first.nextRunAt, lastRun: null, state: jobState(job) };
    return { job, state: first, shown };
  }

  /**
   * The parser thread validates schedule text; text it already accepted (not a one-time form,
   * which depends on `now`) is not sent again — bulk adds usually share a few schedules.
   */
  async #parse(text: string, tz: string | null, now: number): Promise<Schedule> {
    const key = scheduleKey({ schedule: text, timezone: tz });
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
    this.unarm(id);
    this.#d.index.delete(job);
    this.#jobs.delete(id);
    await this.#d.endTurn();
  }

  /** Removes a job by id or name: unarmed at once, then deleted from the store with its records. */
  async removeJob(ref: string): Promise<void> {
    const job = await this.#find(ref);
    const now = this.#d.clock.now();
    this.#d.triggers?.tell('remove', { jobId: job.id });
    this.unarm(job.id);
    await this.#d.endTurn();
    await this.#d.persistence.ask('deleteJob', { id: job.id });
    this.#jobs.delete(job.id);
    this.#d.index.delete(job);
    this.#d.bus.publish({ type: 'job.removed', at: iso(now), jobId: job.id, name: job.name });
  }

  /** Drops a job's runs, timeline entry, schedule state and fires committed ahead from memory. */
  unarm(id: string): void {
    this.#d.runs().dropJob(id);
    this.#d.arming.disarm(id);
    this.#d.slots.forget(id);
    this.#d.ahead.dropJob(id);
  }

  /** Pauses (`enabled` false) or resumes a job; answers the job as shown to callers. */
  async setEnabled(ref: string, enabled: boolean): Promise<Job> {
    const job = await this.#find(ref);
    const now = this.#d.clock.now();
    if (job.enabled === enabled) return this.#present(job);
    const updated: Job = { ...job, enabled, updatedAt: iso(now) };
    await this.#d.persistence.ask('updateJob', { job: updated });
    this.#jobs.set(job.id, updated);
    this.#d.runs().updateJob(updated);
    const schedule = this.schedule(updated);
    this.#d.index.set(factsOf(updated), kindOf(schedule ?? null));
    if (!enabled) {
      this.#d.triggers?.tell('remove', { jobId: job.id });
      this.#d.arming.disarm(job.id);
      this.#d.slots.pause(job.id);
      this.#d.ahead.withdrawJob(job.id);
    } else if (this.#d.mode === 'active' && schedule !== undefined && updated.completedAt === null) {
      // Slots while paused are not "missed": account for them up to now, then arm the next one.
      this.watch(updated);
      if (schedule.kind !== 'event') {
        const stored = this.#d.slots.pausedState(job.id) ?? await this.#d.persistence.ask('getScheduleState', { jobId: job.id });
        this.#d.slots.resume(updated, schedule, stored, now);
      }
    }
    await this.#d.endTurn();
    const shown = await this.#present(updated);
    this.#d.bus.publish({ type: 'job.updated', at: iso(now), job: shown });
    return shown;
  }

  /** A one-time job's slot was recorded: the job is done (SlotKeeper's `complete`). */
  complete(job: Job): void {
    const done: Job = { ...job, completedAt: iso(this.#d.clock.now()), updatedAt: iso(this.#d.clock.now()) };
    // Not awaited: if it is lost, the next start finds the one slot recorded and completes the job again.
    this.#d.persistence.ask('updateJob', { job: done }).catch((err: unknown) =>
      this.#d.logger.warn({ jobId: job.id, err: String(err) }, 'could not mark a one-time job done'));
    this.#d.triggers?.tell('remove', { jobId: job.id });
    this.#jobs.set(job.id, done);
    this.#d.slots.forget(job.id);
    this.#d.index.set(factsOf(done), kindOf(this.schedule(done) ?? null));
  }

  /**
   * (Re)subscribes a stored job's watch and usage triggers. Told, never awaited: a path that
   * cannot be watched now is marked dead in health and retried by the triggers actor.
   */
  watch(job: Job): void {
    if (this.#d.triggers === null || !job.triggers.some((t) => t.type !== 'after')) return;
    this.#d.triggers.tell('set', { jobId: job.id, triggers: job.triggers, strict: false });
  }

  // ---- the caches --------------------------------------------------------------------------

  /** The job's spec if it is cached (no store read). */
  cached(id: string): Job | undefined {
    return this.#jobs.get(id);
  }

  /** Caches a spec read from the store (start-up's pages). */
  remember(job: Job): void {
    this.#jobs.set(job.id, job);
  }

  /** Forgets every cached spec (a reload after a restore; parsed schedules stay valid). */
  clearSpecs(): void {
    this.#jobs.clear();
  }

  /** A job's spec: from the cache, else from the store. */
  async job(id: string): Promise<Job | undefined> {
    return (await this.jobsOf([id])).get(id);
  }

  /** Specs of these jobs: from the cache, the rest in ONE store read. */
  async jobsOf(ids: string[]): Promise<Map<string, Job>> {
    const out = new Map<string, Job>();
    const missing: string[] = [];
    for (const id of ids) {
      const cached = this.#jobs.get(id);
      if (cached !== undefined) out.set(id, cached);
      else if (this.#d.index.get(id) !== undefined) missing.push(id);
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
    const id = this.#d.index.idOf(ref);
    const job = id === undefined ? undefined : await this.job(id);
    if (job === undefined) throw new NotFoundError(`job '${ref}' not found`);
    return job;
  }

  /**
   * A stored job's parsed schedule (undefined if it no longer parses). Stored text is canonical
   * (one-time forms are absolute), so parsing it again at any `now` gives the same schedule.
   */
  schedule(job: Pick<Job, 'id' | 'schedule' | 'timezone'>): Schedule | undefined {
    return this.#schedules.get(job);
  }

  async #present(job: Job): Promise<Job> {
    // The same rule as the read view (runs.ts lastRunOf): newest final run, or one executing now.
    let final = this.#d.runs().cachedLastRun(job.id) ?? null;
    if (final === null) {
      final = await this.#d.persistence.ask('lastFinalRun', { jobId: job.id });
      if (final !== null) this.#d.runs().rememberLastRun(final);
    }
    const lastRun = lastRunOf(final, this.#d.runs().shownRunningOf(job.id));
    const schedule = this.schedule(job);
    const timed = job.enabled && job.completedAt === null && schedule !== undefined && schedule.kind !== 'event';
    const stored = timed && !this.#d.slots.has(job.id) ? await this.#d.persistence.ask('getScheduleState', { jobId: job.id }) : null;
    const next = this.#d.slots.nextRunAt(job, schedule, stored);
    return { ...job, nextRunAt: next === null ? null : iso(next), lastRun, state: jobState(job) };
  }
}
