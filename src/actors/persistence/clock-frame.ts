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
 * Crash safety: a state tagged with a new offset only ever reaches the store in a batch that also
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

/** The clock steps handled so far: how many, and their sum (ms). */
export interface ClockFrame {
  seq: number;
  offsetMs: number;
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
