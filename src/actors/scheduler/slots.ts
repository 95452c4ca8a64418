/**
 * The life of a job's slots (its expected fire times): arming the next one, handling one that fell
 * due (on time, late, or after downtime), catch-up, clock jumps, and the durable record of every
 * slot's outcome. Owned by the scheduler actor and only called from its mailbox.
 *
 * Every armed job's schedule state (watermark, next slot, interval anchor) and parsed schedule are
 * kept here, beside its timeline entry: handling a due slot or a clock jump is memory work only.
 * What must become durable goes to the {@link Committer}'s open batch (slot + run + state of a fire
 * in the same transaction); timeline changes are collected in {@link Arming} and sent as one
 * message per turn.
 *
 * Next-fire maths runs here, on the main thread, through the parser's pure functions: the parser
 * thread has already validated the schedule (a schedule that would hang or crash never gets here).
 * The in-memory state ({@link JobClock}) and the maths its paths share live in job-clock.ts.
 */
import type { Job } from '../../model/job';
import type { Run, RunTrigger, Slot, SlotOutcome } from '../../model/run';
import type { SchedulerEvent } from '../../model/events';
import type { Clock } from '../../runtime/clock';
import type { EventBus } from '../../runtime/event-bus';
import { nextFire, slotsBetween, type Schedule } from '../parser/schedule';
import type { ScheduleState } from '../persistence/actor';
import { fenceAfter, inFrame, NO_STEPS, type ClockFrame } from '../persistence/clock-frame';
import type { FireRecord } from '../persistence/port';
import { planCatchUp } from '../queue/catch-up-policy';
import { jitterFor } from '../queue/jitter';
import type { TimelineEntry } from '../queue/timeline';
import type { Committer } from './committer';
import type { Arming } from './arming';
import type { KeyedColumn } from './job-index';
import { iso, newSlot } from './runs';
import { anchorOf, entryAt, num, stateOfClock, stepClocks, type JobClock } from './job-clock';

/** A slot handled later than this after its time counts as missed (then the catch-up policy decides). */
export const LATE_TOLERANCE_MS = 30_000;
/** Most missed slots enumerated after downtime; beyond that one summary slot is recorded. */
export const MAX_ENUMERATED_SLOTS = 1000;

export { Arming, type ArmChanges } from './arming';

export type { JobClock } from './job-clock';

/** What the keeper needs. */
export interface SlotKeeperDeps {
  clock: Clock;
  bus: EventBus<SchedulerEvent>;
  commit: Committer;
  arming: Arming;
  /** Fires one slot (overlap policy, run, ready queue); `slotted`: a schedule slot with its record. */
  fire(job: Job, slotAt: number, trigger: RunTrigger, slotted: boolean): void;
  /**
   * A slot handed over before its time (the timer's lead): its fire is committed now and
   * dispatched at `dispatchAt` (the slot, plus jitter). Must call {@link SlotKeeper.record} at once.
   */
  preFire(job: Job, slotAt: number, dispatchAt: number): void;
  /** Marks a one-time job done. */
  complete(job: Job): void;
  /** Where the states are kept: the job index's rows (no Map entry per job); default a Map. */
  column?: KeyedColumn<JobClock>;
}

/** Slot bookkeeping of the scheduler actor. */
export class SlotKeeper {
  readonly #d: SlotKeeperDeps;
  readonly #clocks: KeyedColumn<JobClock>;
  /** States of jobs paused in this process, until they resume. */
  readonly #paused = new Map<string, ScheduleState>();
  /** The clock steps handled (clock-frame.ts): interval states are written tagged with its offset. */
  #frame: ClockFrame = NO_STEPS;

  constructor(deps: SlotKeeperDeps) {
    this.#d = deps;
    this.#clocks = deps.column ?? new Map<string, JobClock>();
  }

  /** Whether the job's state is in memory (it is armed, or was since it was loaded). */
  has(jobId: string): boolean {
    return this.#clocks.has(jobId);
  }

  /** Start-up: the clock steps the store holds (its states read in that frame). */
  loadFrame(frame: ClockFrame): void {
    this.#frame = frame;
  }

  /** The clock offset states are written at (clock-frame.ts). */
  get clockOffsetMs(): number {
    return this.#frame.offsetMs;
  }

  /** Takes a stored state (or a fresh one) into memory. */
  load(job: Pick<Job, 'id' | 'jitterMs' | 'createdAt'>, schedule: Schedule, state: ScheduleState | null): void {
    this.#loadParsed(job.id, job.jitterMs, schedule, num(state?.lastSlotAt), num(state?.nextRunAt), num(state?.anchorAt ?? job.createdAt),
      state?.offsetMs !== undefined);
  }

  #loadParsed(jobId: string, jitterMs: number, schedule: Schedule, last: number, next: number, anchor: number, framed: boolean): JobClock {
    const c: JobClock = { last, next, anchor, schedule, jitterMs, jittered: NaN, framed };
    this.#clocks.set(jobId, c);
    return c;
  }

  /** The job's state as stored. */
  stateOf(jobId: string): ScheduleState | null {
    const c = this.#clocks.get(jobId);
    return c === undefined ? null : stateOfClock(jobId, c, this.#frame.offsetMs);
  }

  #clock(job: Job, schedule: Schedule): JobClock {
    let c = this.#clocks.get(job.id);
    if (c === undefined) {
      c = { last: NaN, next: NaN, anchor: Date.parse(job.createdAt), schedule, jitterMs: job.jitterMs, jittered: NaN, framed: false };
      this.#clocks.set(job.id, c);
    }
    c.schedule = schedule;
    c.jitterMs = job.jitterMs;
    return c;
  }

  #save(jobId: string): void {
    const s = this.stateOf(jobId);
    if (s !== null) this.#d.commit.add({ states: [s] });
  }

  /** Arms the job's next slot strictly after max(now, last accounted slot). Returns it (null: none). */
  arm(job: Job, schedule: Schedule, now: number): number | null {
    const c = this.#clock(job, schedule);
    return this.#armClock(job.id, c, now);
  }

  /**
   * `save` false: the move follows from a slot just recorded (a fire, skip or miss), so it is not
   * written — the store derives the watermark from the job's newest slot and start-up computes the
   * next slot from it (fire-layout.ts). Every other move (insert, resume, recovery) is written.
   */
  #armClock(jobId: string, c: JobClock, now: number, save = true): number | null {
    const after = Number.isNaN(c.last) ? now : Math.max(now, c.last);
    const next = nextFire(c.schedule, after, anchorOf(c));
    const value = next ?? NaN;
    // Start-up arms from the stored nextRunAt when it is ahead of the watermark: a written state
    // names the armed slot.
    if (!Object.is(value, c.next)) {
      c.next = value;
      if (save) this.#save(jobId);
    }
    if (next === null) {
      c.jittered = NaN;
      this.#d.arming.disarm(jobId);
      return null;
    }
    this.#d.arming.arm(jobId, entryAt(jobId, c, next));
    return next;
  }

  /**
   * Start-up fast path: a job whose stored next slot is still ahead missed nothing; its timeline
   * entry comes straight from the state. Returns null when the job needs {@link recover}.
   * `createdAt` null (a job head, no spec read): the anchor is the stored one, else now.
   */
  entryFromState(job: Pick<Job, 'id' | 'jitterMs'> & { createdAt: string | null }, schedule: Schedule, state: ScheduleState | null,
    now: number): TimelineEntry | null {
    if (state?.nextRunAt == null) return null;
    const at = this.entryFromInstants(job.id, job.jitterMs, schedule, num(state.lastSlotAt), Date.parse(state.nextRunAt), num(state.anchorAt ?? job.createdAt), now,
      state.offsetMs !== undefined);
    return Number.isNaN(at) ? null : { jobId: job.id, at };
  }

  /**
   * {@link entryFromState} on a state's instants already parsed (epoch ms, NaN: none), as start-up
   * pages carry them: the job's timeline time, or NaN when it needs recovery. Anchor NaN: now.
   * `framed`: the stored state is tagged with a clock offset (PAGE_FRAMED).
   */
  entryFromInstants(jobId: string, jitterMs: number, schedule: Schedule, last: number, next: number, anchor: number, now: number,
    framed = false): number {
    if (!(next > now) || last >= next) return NaN;
    const c = this.#loadParsed(jobId, jitterMs, schedule, last, next, Number.isNaN(anchor) ? now : anchor, framed);
    return entryAt(jobId, c, next);
  }

  /** The job's next fire time for people (`nextRunAt`), from memory when armed. */
  nextRunAt(job: Job, schedule: Schedule | undefined, stored: ScheduleState | null): number | null {
    if (!job.enabled || job.completedAt !== null || schedule === undefined || schedule.kind === 'event') return null;
    const c = this.#clocks.get(job.id);
    if (c !== undefined) return Number.isNaN(c.next) ? null : c.next;
    // Not armed here (offline mode): what the next slot would be.
    const last = num(stored?.lastSlotAt);
    const after = Number.isNaN(last) ? this.#d.clock.now() : Math.max(this.#d.clock.now(), last);
    return nextFire(schedule, after, Number.isNaN(num(stored?.anchorAt)) ? Date.parse(job.createdAt) : num(stored?.anchorAt));
  }

  /** Drops the state of a removed or done job. */
  forget(jobId: string): void {
    this.#clocks.delete(jobId);
    this.#paused.delete(jobId);
  }

  /** A paused job leaves the armed set; its state is kept for resume (its write may not be durable yet). */
  pause(jobId: string): void {
    const s = this.stateOf(jobId);
    this.#clocks.delete(jobId);
    if (s !== null) this.#paused.set(jobId, s);
  }

  /** The state a job had when it was paused here (null: read it from the store). */
  pausedState(jobId: string): ScheduleState | null {
    const s = this.#paused.get(jobId) ?? null;
    this.#paused.delete(jobId);
    // Moved by any clock step handled while it was paused, as the stored copy reads.
    return s === null ? null : inFrame(s, this.#frame.offsetMs);
  }

  /** Timeline time of the job's armed entry (its slot, plus jitter). */
  entryOf(jobId: string): number | undefined {
    const c = this.#clocks.get(jobId);
    if (c === undefined || Number.isNaN(c.next)) return undefined;
    return c.jitterMs > 0 ? c.next + jitterFor(jobId, c.next, c.jitterMs) : c.next;
  }

  /**
   * Records a slot's outcome (with its run, if any) and advances the job's watermark in memory. Only
   * the slot (and run) go to the open batch: the stored watermark is derived from the job's newest
   * slot (fire-layout.ts), so a fire costs no schedule state record. `after(deduped)` runs once durable; `deduped` means
   * the slot already had an outcome (never twice), and it is reported as such. `quiet`: no
   * `slot.recorded` event once durable (a fire committed ahead is published at its time).
   */
  record(job: Job, slotAt: number, outcome: SlotOutcome, run: Run | null, reason: string | null,
    after?: (deduped: boolean) => void, quiet = false): void {
    const now = this.#d.clock.now();
    const c = this.#clocks.get(job.id);
    if (c !== undefined) c.last = Number.isNaN(c.last) ? slotAt : Math.max(c.last, slotAt);
    this.#commitSlot(job, c, newSlot(job.id, slotAt, outcome, run?.id ?? null, reason, now), run, after, quiet);
  }

  /**
   * Records `slots` (ascending) `missed` as ONE record: a range keyed by its last slot (so the
   * derived watermark is that slot), with the first slot and the count (Slot.firstAt, count). A
   * spell behind costs one record per job, however many slots it swallowed.
   */
  recordMissed(job: Job, slots: readonly number[], reason: string): void {
    if (slots.length === 1) return this.record(job, slots[0]!, 'missed', null, reason);
    const last = slots[slots.length - 1]!;
    const c = this.#clocks.get(job.id);
    if (c !== undefined) c.last = Number.isNaN(c.last) ? last : Math.max(c.last, last);
    const slot = newSlot(job.id, last, 'missed', null, `${reason}; ${slots.length} slots from ${iso(slots[0]!)} to ${iso(last)}`, this.#d.clock.now());
    slot.firstAt = iso(slots[0]!);
    slot.count = slots.length;
    this.#commitSlot(job, c, slot, null);
  }

  /**
   * The slot (and run) to the open batch. An interval job's slot is tagged with the clock offset
   * (clock-frame.ts), so a step moves the watermark derived from it; one keyed at or below the
   * backward fence (after a backward step, below an older slot's key) goes with the job's state,
   * whose watermark it is (clock-frame.ts "The backward fence").
   */
  #commitSlot(job: Job, c: JobClock | undefined, slot: Slot, run: Run | null, after?: (deduped: boolean) => void, quiet = false): void {
    const interval = c?.schedule.kind === 'interval';
    const fire: FireRecord = interval ? { slot, run, offsetMs: this.#frame.offsetMs } : { slot, run };
    const fenced = interval && this.#frame.fenceMs !== undefined && Date.parse(slot.at) <= this.#frame.fenceMs;
    this.#d.commit.add(fenced ? { fires: [fire], states: [stateOfClock(job.id, c, this.#frame.offsetMs)] } : { fires: [fire] }, (result) => {
      const deduped = result.deduped.some((d) => d.jobId === slot.jobId && d.at === slot.at);
      const at = iso(this.#d.clock.now());
      if (deduped) {
        this.#d.bus.publish({ type: 'slot.recorded', at, slot: { ...slot, outcome: 'deduped', runId: null, reason: 'this slot already has an outcome' } });
      } else if (!quiet && !result.dropped.includes(job.id)) {
        this.#d.bus.publish({ type: 'slot.recorded', at, slot });
      }
      after?.(deduped || result.dropped.includes(job.id));
    });
  }

  /** A timeline entry of `job` fell due. */
  due(job: Job, schedule: Schedule, firedAt: number, now: number): void {
    const c = this.#clock(job, schedule);
    const slotAt = Number.isNaN(c.jittered) ? firedAt : c.jittered;
    c.jittered = NaN;
    if (firedAt > now) {
      // Handed over ahead of its time: committed now, dispatched at its time (preclaims.ts).
      this.#d.preFire(job, slotAt, firedAt);
      this.#armOrComplete(job, c, now, false);
      return;
    }
    const later = slotsBetween(schedule, slotAt, now, MAX_ENUMERATED_SLOTS, anchorOf(c));
    const newest = later.length === 0 ? slotAt : later[later.length - 1]!;
    if (later.length === 0 && now - slotAt <= LATE_TOLERANCE_MS) {
      this.#d.fire(job, slotAt, 'schedule', true);
    } else if (job.catchUp === 'none' && now - newest <= LATE_TOLERANCE_MS && later.length < MAX_ENUMERATED_SLOTS) {
      // Handled after its next slot(s) passed, but not down: the scheduler was busy. Catch-up is
      // about slots missed while it was down (CONTRACT); `none` must not turn a busy spell into no
      // run at all (a per-second job late by more than a second would never run again while the
      // load lasts). The newest due slot is on time within the tolerance and fires as scheduled;
      // those it superseded are recorded missed. (`once` already runs the newest; `all` runs every one.)
      this.#catchUp(job, c, [slotAt, ...later.slice(0, -1)], slotAt, now, 'late: the scheduler was busy; a newer slot ran');
      this.#d.fire(job, newest, 'schedule', true);
    } else {
      this.#catchUp(job, c, [slotAt, ...later], slotAt, now, 'late: the scheduler was busy or the machine asleep');
    }
    this.#armOrComplete(job, c, now, false);
  }

  /**
   * Start-up, batched: when no slot was missed since the job's watermark, arms it and returns true.
   * Returns false when slots were missed (the caller then runs {@link recover}).
   */
  planArm(job: Job, schedule: Schedule, state: ScheduleState | null, now: number): boolean {
    this.load(job, schedule, state);
    const c = this.#clocks.get(job.id)!;
    const from = Number.isNaN(c.last) ? (anchorOf(c) ?? Date.parse(job.createdAt)) : c.last;
    if (slotsBetween(schedule, from, now, 1, anchorOf(c)).length > 0) return false;
    this.#armClock(job.id, c, now);
    return true;
  }

  /** Start-up: slots since the job's watermark were missed while the daemon was down. */
  recover(job: Job, schedule: Schedule, state: ScheduleState | null, now: number): void {
    if (!this.#clocks.has(job.id)) this.load(job, schedule, state);
    const c = this.#clock(job, schedule);
    const from = Number.isNaN(c.last) ? (anchorOf(c) ?? Date.parse(job.createdAt)) : c.last;
    const missed = slotsBetween(schedule, from, now, MAX_ENUMERATED_SLOTS, anchorOf(c));
    if (missed.length > 0) this.#catchUp(job, c, missed, from, now, 'the scheduler was not running');
    this.#armOrComplete(job, c, now);
  }

  /** Resume after pause: slots while paused are not missed; intervals restart from now. */
  resume(job: Job, schedule: Schedule, state: ScheduleState | null, now: number): void {
    this.load(job, schedule, state);
    const c = this.#clocks.get(job.id)!;
    // A slot committed ahead and withdrawn by the pause (fires-ahead.ts) stays accounted for.
    c.last = Number.isNaN(c.last) ? now : Math.max(now, c.last);
    if (schedule.kind === 'interval') c.anchor = now;
    this.#save(job.id);
    this.#armClock(job.id, c, now);
  }

  /**
   * The wall clock stepped by `deltaMs` (NTP, manual change), handled in memory for every armed
   * job. Intervals are elapsed time: their anchor, watermark and next slot move with the clock, so
   * they neither burst nor stall (a slot the step carried into the past is due now). Calendar
   * schedules follow the wall clock: after a forward step their skipped slots fall due and the
   * catch-up policy decides; after a backward step nothing before the watermark fires again.
   *
   * Durable as ONE record: the clock offset grows by the step (clock-frame.ts), and the stored
   * states and slots of interval jobs, tagged with the offset they were written at, read moved by
   * it — fired jobs too (their watermark is derived from their newest slot, tagged since schema 6).
   * A backward step also raises the fence (clock-frame.ts), in the same record. Written one by
   * one only: interval states stored untagged (written before tags existed, or by the offline
   * CLI; once each), and calendar states a backward step re-armed. Returns how many jobs were
   * re-armed.
   */
  clockJumped(deltaMs: number): number {
    const now = this.#d.clock.now();
    this.#d.bus.publish({ type: 'clock.jumped', at: iso(now), deltaMs });
    const frame: ClockFrame = { seq: this.#frame.seq + 1, offsetMs: this.#frame.offsetMs + deltaMs };
    const fenceMs = fenceAfter(this.#frame.fenceMs, deltaMs, now);
    if (fenceMs !== undefined) frame.fenceMs = fenceMs;
    this.#frame = frame;
    this.#d.commit.clockStepped(this.#frame);
    const { states, rearmed } = stepClocks(this.#clocks, deltaMs, now, this.#frame.offsetMs, this.#d.arming);
    if (states.length > 0) this.#d.commit.add({ states });
    return rearmed;
  }

  /** Every armed job's timeline entry again (a new queue incarnation starts empty). */
  rearmAll(): void {
    for (const [jobId, c] of this.#clocks) {
      if (!Number.isNaN(c.next)) this.#d.arming.arm(jobId, Number.isNaN(c.jittered) ? c.next : entryAt(jobId, c, c.next));
    }
  }

  #armOrComplete(job: Job, c: JobClock, now: number, save = true): void {
    const next = this.#armClock(job.id, c, now, save);
    if (next === null && c.schedule.kind === 'once') this.#d.complete(job);
  }

  /**
   * Missed slots: the catch-up policy picks which run (trigger `catch-up`); the others are
   * recorded `missed` as ONE range record (recordMissed) — beyond {@link MAX_ENUMERATED_SLOTS}
   * after downtime, the older ones as one summary more — so history explains them.
   */
  #catchUp(job: Job, c: JobClock, slots: number[], from: number, now: number, why: string): void {
    const schedule = c.schedule;
    let list = slots;
    let summary: string | null = null;
    if (list.length >= MAX_ENUMERATED_SLOTS) {
      // Too many to list: find a recent window with fewer slots (halving), summarise the rest.
      let lo = from;
      while (list.length >= MAX_ENUMERATED_SLOTS && now - lo > 1) {
        lo = lo + Math.floor((now - lo) / 2);
        list = slotsBetween(schedule, lo, now, MAX_ENUMERATED_SLOTS, anchorOf(c));
      }
      summary = `at least ${MAX_ENUMERATED_SLOTS} slots between ${iso(from)} and ${iso(lo)} missed (${why}); not recorded one by one`;
      if (list.length === 0) list = [slots[slots.length - 1]!];
    }
    const plan = planCatchUp(job.catchUp, list);
    // Slots are recorded oldest first, so each record's max(watermark, slot) advances the watermark.
    if (summary !== null) this.record(job, slots[0]!, 'missed', null, summary);
    // The policy's missed slots are always the oldest of the list (a prefix): ONE range record.
    if (plan.missed.length > 0) this.recordMissed(job, plan.missed, `${why}; catch-up '${job.catchUp}'`);
    for (const at of plan.run) this.#d.fire(job, at, 'catch-up', true);
  }
}
