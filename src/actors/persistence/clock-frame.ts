/**
 * The clock frame of stored schedule states: how a wall-clock step is made durable with ONE record
 * instead of a state write per job.
 *
 * An interval schedule counts elapsed time, so a wall-clock step (NTP, a manual change, a resume)
 * moves every interval job's anchor, watermark and next slot by the step (src/actors/scheduler/slots.ts
 * `clockJumped`). Instead of rewriting those states (100,000 puts with 100,000 jobs), the scheduler
 * keeps a running sum of the steps it handled — the *clock offset* — and writes every interval
 * job's state tagged with the offset its instants were computed at. A step then changes only the
 * offset, one record in `meta` ({@link CLOCK_SEQ_KEY}, {@link CLOCK_OFFSET_KEY}), committed in the
 * same batch as the rest of the step's turn. Reading a tagged state shifts its instants by (offset
 * now − offset at write) ({@link inFrame}); a state without a tag (calendar schedules, states
 * written before this existed, or by the offline CLI) is wall-clock time and never shifted.
 *
 * **Slots carry the frame too** (schema 6). Since schema 4 a fire writes no state: an interval job's
 * watermark is derived from its newest slot record (fire-layout.ts), so that record is tagged with
 * the offset its `at` was computed at (the slot codec's header, codecs.ts `encodeSlot`) and read
 * moved like a state ({@link slotShift}). A step then moves fired jobs without a write too. Slots
 * stored untagged are calendar slots (wall-clock time, like their states: never moved) or were
 * written before schema 6: those of a job whose state is tagged read at the offset the store had
 * when it became version 6 ({@link CLOCK_SLOT_BASE_KEY}; the newest untagged slot of an interval
 * job was written in that frame, or before a step whose state write covers it).
 *
 * **The backward fence.** The watermark is read from the job's slot with the highest KEY. After a
 * backward step, new slots have keys below the old ones until the wall clock is back where it
 * was: the highest key is then not the newest slot. So a backward step raises the *fence* (the
 * wall time the clock had reached, plus the lead of fires committed ahead, {@link fenceAfter}),
 * kept with the offset; a slot recorded at or below the fence is written together with its job's
 * state (tagged, whose watermark is that slot), so the derived watermark stays right. Above the
 * fence a new slot's key is the job's highest: nothing more to write. Forward steps never raise it
 * (new keys are above every old one). Cost: one state put per fire in the |step| after a backward
 * step, for the jobs that fire in it — none at the step itself.
 *
 * Crash safety: a state (or slot) tagged with a new offset only ever reaches the store in a batch that also
 * carries that offset record, until one such batch is durable (the committer attaches it:
 * src/actors/scheduler/committer.ts), so the store never holds a tag newer than its offset. A
 * crash before the step's record is durable leaves every state in the old frame, as if the step
 * happened while the scheduler was down (start-up recovery and catch-up, like any downtime); after
 * it, every state reads in the new frame. The record is written only if its step number is newer
 * than the stored one, so a retried older batch never moves the offset back.
 */
import type { ScheduleState } from './schema';

/** `meta` key of the number of clock steps handled (guards against writing an older offset). */
export const CLOCK_SEQ_KEY = 'clockStepSeq';
/** `meta` key of the sum of the clock steps handled, ms. */
export const CLOCK_OFFSET_KEY = 'clockOffsetMs';
/** `meta` key of the backward fence (epoch ms; absent: no backward step), see the file comment. */
export const CLOCK_FENCE_KEY = 'clockFenceMs';
/**
 * `meta` key of the offset untagged slots of interval jobs are read at: the store's offset when it
 * became schema version 6 (or was restored from a backup). Absent: 0.
 */
export const CLOCK_SLOT_BASE_KEY = 'clockSlotBaseMs';

/** Slots keyed below the last slot committed ahead by at most this: the fence's margin (fires are committed ≤ 900 ms ahead). */
const FENCE_MARGIN_MS = 5000;

/** The clock steps handled so far: how many, and their sum (ms); and the backward fence. */
export interface ClockFrame {
  seq: number;
  offsetMs: number;
  /** Slots keyed at or below this (epoch ms) are written with their job's state (see the file comment). */
  fenceMs?: number;
}

/**
 * The fence after a step of `deltaMs` noticed at wall time `now`: a backward step raises it to where
 * the wall clock had reached (every slot key so far is at most that plus the lead); a forward step
 * leaves it.
 */
export function fenceAfter(fenceMs: number | undefined, deltaMs: number, now: number): number | undefined {
  if (deltaMs >= 0) return fenceMs;
  const reached = now - deltaMs + FENCE_MARGIN_MS;
  return fenceMs === undefined || reached > fenceMs ? reached : fenceMs;
}

/**
 * How far a stored slot's `at` moves to read it at clock offset `offsetMs`: by the steps since its
 * tag (`tag`: the offset it was recorded at), or for an untagged slot by the steps since `baseMs`
 * when its job's state is tagged (an interval job), else not at all (calendar: wall-clock time).
 */
export function slotShift(tag: number | undefined, offsetMs: number, stateTagged: boolean, baseMs: number): number {
  if (tag !== undefined) return offsetMs - tag;
  return stateTagged ? offsetMs - baseMs : 0;
}

/** No step handled yet. */
export const NO_STEPS: ClockFrame = { seq: 0, offsetMs: 0 };

const shifted = (v: string | null, by: number): string | null => (v === null ? null : new Date(Date.parse(v) + by).toISOString());

/**
 * A stored state as of the clock offset `offsetMs`: a tagged state's instants moved by the steps
 * handled since it was written (and tagged with `offsetMs`); an untagged one as it is.
 */
export function inFrame(s: ScheduleState, offsetMs: number): ScheduleState {
  if (s.offsetMs === undefined || s.offsetMs === offsetMs) return s;
  const by = offsetMs - s.offsetMs;
  return { jobId: s.jobId, lastSlotAt: shifted(s.lastSlotAt, by), nextRunAt: shifted(s.nextRunAt, by), anchorAt: shifted(s.anchorAt, by), offsetMs };
}
