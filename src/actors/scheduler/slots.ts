/**
 * The life of a job's slots (its expected fire times): arming the next one, handling one that fell
 * due (on time, late, or after downtime), catch-up, clock jumps, and the durable record of every
 * slot's outcome. Owned by the scheduler actor and only called from its mailbox.
 *
 * Next-fire maths runs here, on the main thread, through the parser's pure functions: the parser
 * thread has already validated the schedule (a schedule that would hang or crash never gets here),
 * and a thread round-trip per fire would only add latency to the hot path.
 */
import type { Logger } from '../../api';
import { SchedulerError } from '../../errors';
import type { Job } from '../../model/job';
import type { Run, RunTrigger, SlotOutcome } from '../../model/run';
import type { SchedulerEvent } from '../../model/events';
import type { Clock } from '../../runtime/clock';
import type { EventBus } from '../../runtime/event-bus';
import type { ActorRef } from '../../runtime/types';
import { nextFire, slotsBetween, type Schedule } from '../parser/schedule';
import type { PersistenceHandlers, ScheduleState } from '../persistence/actor';
import type { QueueHandlers } from '../queue/actor';
import { explainOverlap, type OverlapVerdict } from '../queue/overlap-policy';
import { planCatchUp } from '../queue/catch-up-policy';
import { jitterFor } from '../queue/jitter';
import { iso, newSlot } from './runs';
import { nextRunAtOf } from './next-run';

/** A slot handled later than this after its time counts as missed (then the catch-up policy decides). */
export const LATE_TOLERANCE_MS = 30_000;
/** Most missed slots enumerated after downtime; beyond that one summary slot is recorded. */
export const MAX_ENUMERATED_SLOTS = 1000;
/** Most `missed` slots recorded one by one after downtime (the rest are summarised). */
export const MAX_RECORDED_MISSED = 100;

/** What the keeper needs. */
export interface SlotKeeperDeps {
  clock: Clock;
  persistence: ActorRef<PersistenceHandlers>;
  queue: ActorRef<QueueHandlers>;
  bus: EventBus<SchedulerEvent>;
  logger: Logger;
  /** Fires one slot (overlap policy, run, ready queue). */
  fire(job: Job, slotAt: number, trigger: RunTrigger, state: ScheduleState): Promise<void>;
  /** Marks a one-time job done. */
  complete(job: Job): Promise<void>;
  /** The parsed schedule of a job. */
  scheduleOf(job: Job): Schedule | undefined;
}

/** Slot bookkeeping of the scheduler actor. */
export class SlotKeeper {
  readonly #d: SlotKeeperDeps;
  /**
   * Nominal slot time of jittered jobs' armed timeline entries (the entry fires later than the
   * slot). Jobs without jitter are not in it: their entry's time is the slot.
   */
  readonly #jittered = new Map<string, number>();

  constructor(deps: SlotKeeperDeps) {
    this.#d = deps;
  }

  /** The overlap verdict for a new slot of `job`. */
  overlap(job: Job, running: number, queued: number): OverlapVerdict {
    return explainOverlap(job.overlap, { running, queued });
  }

  /** The job's schedule state, from the store (not cached: a million jobs' states stay on disk). */
  async #state(job: Job): Promise<ScheduleState> {
    return await this.#d.persistence.ask('getScheduleState', { jobId: job.id }) ??
      { jobId: job.id, lastSlotAt: null, nextRunAt: null, anchorAt: job.createdAt };
  }

  #anchor(job: Job, s: ScheduleState): number {
    return Date.parse(s.anchorAt ?? job.createdAt);
  }

  /** Arms the job's next slot strictly after max(now, last accounted slot). */
  async arm(job: Job, schedule: Schedule, now: number): Promise<number | null> {
    const s = await this.#state(job);
    const after = Math.max(now, s.lastSlotAt === null ? -Infinity : Date.parse(s.lastSlotAt));
    const next = nextFire(schedule, after, this.#anchor(job, s));
    const nextIso = next === null ? null : iso(next);
    // Start-up arms straight from the stored nextRunAt, so it must always be the armed slot.
    if (s.nextRunAt !== nextIso) await this.#d.persistence.ask('putScheduleState', { jobId: job.id, state: { ...s, nextRunAt: nextIso } });
    if (next === null) {
      this.#jittered.delete(job.id);
      await this.#d.queue.ask('disarm', { key: job.id });
      return null;
    }
    await this.#d.queue.ask('arm', { key: job.id, at: this.#entryAt(job, next) });
    return next;
  }

  /** Timeline time of a slot: the slot itself, or later by the job's deterministic jitter. */
  #entryAt(job: Pick<Job, 'id' | 'jitterMs'>, slot: number): number {
    if (job.jitterMs <= 0) return slot;
    this.#jittered.set(job.id, slot);
    return slot + jitterFor(job.id, slot, job.jitterMs);
  }

  /**
   * Start-up fast path: a job whose stored next slot is still ahead missed nothing; its timeline
   * entry comes straight from the state, with no schedule maths. Returns null when the job needs the
   * full {@link recover} (no stored next slot, or it has passed).
   */
  entryFromState(job: Pick<Job, 'id' | 'jitterMs'>, state: ScheduleState | null, now: number): { jobId: string; at: number } | null {
    if (state?.nextRunAt == null) return null;
    const next = Date.parse(state.nextRunAt);
    if (!(next > now) || (state.lastSlotAt !== null && Date.parse(state.lastSlotAt) >= next)) return null;
    return { jobId: job.id, at: this.#entryAt(job, next) };
  }

  /** The job's next fire time for people (`nextRunAt`). */
  async nextRunAt(job: Job, schedule: Schedule | undefined, active: boolean): Promise<number | null> {
    if (!job.enabled || job.completedAt !== null || schedule === undefined || schedule.kind === 'event') return null;
    return nextRunAtOf(job, schedule, await this.#state(job), active, this.#d.clock.now());
  }

  /** Drops cached state of a removed or paused job. */
  forget(jobId: string): void {
    this.#jittered.delete(jobId);
  }

  /**
   * Records a slot's outcome (with its run, if any) and advances the job's watermark, in one
   * transaction. Returns false when the slot was already recorded (deduped: it never runs twice).
   */
  async record(job: Job, slotAt: number, outcome: SlotOutcome, run: Run | null, reason: string | null,
    state: ScheduleState): Promise<boolean> {
    const now = this.#d.clock.now();
    const slot = newSlot(job.id, slotAt, outcome, run?.id ?? null, reason, now);
    const prev = state.lastSlotAt === null ? -Infinity : Date.parse(state.lastSlotAt);
    const next: ScheduleState = { ...state, lastSlotAt: iso(Math.max(prev, slotAt)) };
    try {
      await this.#d.persistence.ask('recordFire', { slot, run, state: next });
    } catch (err) {
      if (err instanceof SchedulerError && err.code === 'CONFLICT') {
        // The slot already has its one durable outcome; this second attempt is reported, not stored.
        this.#d.logger.info({ jobId: job.id, slot: slot.at }, 'slot already recorded: deduped');
        this.#d.bus.publish({ type: 'slot.recorded', at: iso(now), slot: { ...slot, outcome: 'deduped', runId: null, reason: 'this slot already has an outcome' } });
        return false;
      }
      throw err;
    }
    this.#d.bus.publish({ type: 'slot.recorded', at: iso(now), slot });
    return true;
  }

  /** A timeline entry of `job` fell due. */
  async due(job: Job, schedule: Schedule, firedAt: number, now: number): Promise<void> {
    const slotAt = this.#jittered.get(job.id) ?? firedAt;
    this.#jittered.delete(job.id);
    const s = await this.#state(job);
    const later = slotsBetween(schedule, slotAt, now, MAX_ENUMERATED_SLOTS, this.#anchor(job, s));
    if (later.length === 0 && now - slotAt <= LATE_TOLERANCE_MS) {
      const next = nextFire(schedule, Math.max(now, slotAt), this.#anchor(job, s));
      await this.#d.fire(job, slotAt, 'schedule', { ...s, nextRunAt: next === null ? null : iso(next) });
    } else {
      await this.#catchUp(job, schedule, [slotAt, ...later], slotAt, now, 'late: the scheduler was busy or the machine asleep');
    }
    await this.#armOrComplete(job, schedule, now);
  }

  /**
   * Start-up, batched: when no slot was missed since the job's watermark, returns its timeline entry
   * and its state with the new next slot — for the caller to write and arm many at once. Returns
   * null when slots were missed (the caller then runs {@link recover}, which applies catch-up).
   */
  planArm(job: Job, schedule: Schedule, state: ScheduleState | null, now: number):
    { entry: { jobId: string; at: number } | null; state: ScheduleState } | null {
    const s = state ?? { jobId: job.id, lastSlotAt: null, nextRunAt: null, anchorAt: job.createdAt };
    const anchor = this.#anchor(job, s);
    const from = Date.parse(s.lastSlotAt ?? s.anchorAt ?? job.createdAt);
    if (slotsBetween(schedule, from, now, 1, anchor).length > 0) return null;
    const after = Math.max(now, s.lastSlotAt === null ? -Infinity : Date.parse(s.lastSlotAt));
    const next = nextFire(schedule, after, anchor);
    return {
      entry: next === null ? null : { jobId: job.id, at: this.#entryAt(job, next) },
      state: { ...s, nextRunAt: next === null ? null : iso(next) },
    };
  }

  /** Start-up: slots since the job's watermark were missed while the daemon was down. */
  async recover(job: Job, schedule: Schedule, now: number): Promise<void> {
    const s = await this.#state(job);
    const from = Date.parse(s.lastSlotAt ?? s.anchorAt ?? job.createdAt);
    const missed = slotsBetween(schedule, from, now, MAX_ENUMERATED_SLOTS, this.#anchor(job, s));
    if (missed.length > 0) await this.#catchUp(job, schedule, missed, from, now, 'the scheduler was not running');
    await this.#armOrComplete(job, schedule, now);
  }

  /** Resume after pause: slots while paused are not missed; intervals restart from now. */
  async resume(job: Job, schedule: Schedule, now: number): Promise<void> {
    const s = await this.#state(job);
    const next: ScheduleState = { ...s, lastSlotAt: iso(now), anchorAt: schedule.kind === 'interval' ? iso(now) : s.anchorAt };
    await this.#d.persistence.ask('putScheduleState', { jobId: job.id, state: next });
    await this.arm(job, schedule, now);
  }

  /**
   * The wall clock stepped by `deltaMs` (NTP, manual change). Intervals are elapsed time: their
   * anchor and watermark move with the clock, so they neither burst nor stall. Calendar schedules
   * follow the wall clock: after a forward step their skipped slots fall due and the catch-up
   * policy decides; after a backward step nothing before the watermark fires again.
   */
  async clockJumped(jobs: Job[], deltaMs: number): Promise<void> {
    const now = this.#d.clock.now();
    this.#d.bus.publish({ type: 'clock.jumped', at: iso(now), deltaMs });
    for (const job of jobs) {
      const schedule = this.#d.scheduleOf(job);
      if (schedule === undefined) continue;
      if (schedule.kind === 'interval') {
        const s = await this.#state(job);
        const shift = (v: string | null): string | null => (v === null ? null : iso(Date.parse(v) + deltaMs));
        const moved: ScheduleState = { ...s, anchorAt: shift(s.anchorAt ?? job.createdAt), lastSlotAt: shift(s.lastSlotAt) };
        await this.#d.persistence.ask('putScheduleState', { jobId: job.id, state: moved });
        await this.arm(job, schedule, now);
      } else if (deltaMs < 0 && schedule.kind !== 'event') {
        await this.arm(job, schedule, now);
      }
    }
  }

  async #armOrComplete(job: Job, schedule: Schedule, now: number): Promise<void> {
    const next = await this.arm(job, schedule, now);
    if (next === null && schedule.kind === 'once') await this.#d.complete(job);
  }

  /**
   * Missed slots: the catch-up policy picks which run (trigger `catch-up`); every other one is
   * recorded `missed` — one by one up to a bound, then as one summary — so history explains them.
   */
  async #catchUp(job: Job, schedule: Schedule, slots: number[], from: number, now: number, why: string): Promise<void> {
    const s = await this.#state(job);
    let list = slots;
    let summary: string | null = null;
    if (list.length >= MAX_ENUMERATED_SLOTS) {
      // Too many to list: find a recent window with fewer slots (halving), summarise the rest.
      let lo = from;
      while (list.length >= MAX_ENUMERATED_SLOTS && now - lo > 1) {
        lo = lo + Math.floor((now - lo) / 2);
        list = slotsBetween(schedule, lo, now, MAX_ENUMERATED_SLOTS, this.#anchor(job, s));
      }
      summary = `at least ${MAX_ENUMERATED_SLOTS} slots between ${iso(from)} and ${iso(lo)} missed (${why}); not recorded one by one`;
      if (list.length === 0) list = [slots[slots.length - 1]!];
    }
    const plan = planCatchUp(job.catchUp, list);
    const next = nextFire(schedule, Math.max(now, list[list.length - 1]!), this.#anchor(job, s));
    // Slots are recorded oldest first, so each record's max(watermark, slot) advances the watermark.
    const state = (): ScheduleState => ({ ...s, nextRunAt: next === null ? null : iso(next) });
    if (summary !== null) await this.record(job, slots[0]!, 'missed', null, summary, state());
    const missed = plan.missed;
    const skipOneByOne = missed.length > MAX_RECORDED_MISSED ? missed.length - MAX_RECORDED_MISSED : 0;
    if (skipOneByOne > 0) {
      await this.record(job, missed[0]!, 'missed', null,
        `${skipOneByOne} slots from ${iso(missed[0]!)} to ${iso(missed[skipOneByOne - 1]!)} missed (${why}); catch-up '${job.catchUp}'`, state());
    }
    for (const at of missed.slice(skipOneByOne)) {
      if (skipOneByOne > 0 && at === missed[0]) continue;
      await this.record(job, at, 'missed', null, `${why}; catch-up '${job.catchUp}'`, state());
    }
    for (const at of plan.run) await this.#d.fire(job, at, 'catch-up', state());
  }
}
