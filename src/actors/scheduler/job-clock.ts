/**
 * A job's schedule state as the slot keeper holds it in memory ({@link JobClock}), and the small
 * maths every slot path shares on it: its anchor, the timeline time of a slot (jitter), the state to
 * write (tagged with the clock offset for intervals), re-arming after a move, and moving every
 * armed clock by a wall-clock step. Kept apart from slots.ts, which decides what happens to a slot
 * (fire, catch-up, miss, record), so that both read at a glance.
 * @internal
 */
import { nextFire, type Schedule } from '../parser/schedule';
import type { ScheduleState } from '../persistence/actor';
import { jitterFor } from '../queue/jitter';
import type { Arming } from './arming';
import { iso } from './runs';

/** A job's schedule state in memory (NaN = none), with its parsed schedule and jitter. */
export interface JobClock {
  last: number;
  next: number;
  anchor: number;
  schedule: Schedule;
  jitterMs: number;
  /** Nominal slot of a jittered job's armed entry (the entry fires later than the slot). */
  jittered: number;
  /**
   * Its stored state is tagged with a clock offset (clock-frame.ts), so a clock step moves it
   * without a write. False: stored untagged (not yet written by this version), or not known.
   */
  framed: boolean;
}

/** Epoch ms of a stored ISO instant (NaN: none). */
export const num = (v: string | null | undefined): number => (v == null ? NaN : Date.parse(v));

/** ISO text of a state's instant (NaN: none); recent instants are memoized by {@link iso}. */
const str = (v: number): string | null => (Number.isNaN(v) ? null : iso(v));

/** The clock's interval anchor, if it has one. */
export function anchorOf(c: JobClock): number | undefined {
  return Number.isNaN(c.anchor) ? undefined : c.anchor;
}

/**
 * The state to write: an interval's tagged with the clock offset `offsetMs` (clock-frame.ts), so a
 * step moves it unwritten.
 */
export function stateOfClock(jobId: string, c: JobClock, offsetMs: number): ScheduleState {
  const s: ScheduleState = { jobId, lastSlotAt: str(c.last), nextRunAt: str(c.next), anchorAt: str(c.anchor) };
  if (c.schedule.kind !== 'interval') return s;
  c.framed = true;
  s.offsetMs = offsetMs;
  return s;
}

/** Timeline time of a slot: the slot itself, or later by the job's deterministic jitter. */
export function entryAt(jobId: string, c: JobClock, slot: number): number {
  if (c.jitterMs <= 0) return slot;
  c.jittered = slot;
  return slot + jitterFor(jobId, slot, c.jitterMs);
}

/** slots.ts `#armClock` without its own state write (the caller writes the state). */
function rearm(jobId: string, c: JobClock, now: number, arming: Arming): void {
  const after = Number.isNaN(c.last) ? now : Math.max(now, c.last);
  const next = nextFire(c.schedule, after, anchorOf(c));
  c.next = next ?? NaN;
  if (next === null) {
    c.jittered = NaN;
    arming.disarm(jobId);
  } else {
    arming.arm(jobId, entryAt(jobId, c, next));
  }
}

/**
 * The wall clock stepped by `deltaMs`: every armed clock moved in memory (slots.ts `clockJumped`
 * says how and why), its timeline entry re-armed. Returns the states that must be written (interval
 * states stored untagged, calendar states a backward step re-armed; tagged at `offsetMs`, the new
 * offset) and how many jobs were re-armed.
 */
export function stepClocks(clocks: Iterable<[string, JobClock]>, deltaMs: number, now: number, offsetMs: number,
  arming: Arming): { states: ScheduleState[]; rearmed: number } {
  const states: ScheduleState[] = [];
  let n = 0;
  for (const [jobId, c] of clocks) {
    const kind = c.schedule.kind;
    if (kind === 'interval') {
      if (!Number.isNaN(c.anchor)) c.anchor += deltaMs;
      if (!Number.isNaN(c.last)) c.last += deltaMs;
      if (!Number.isNaN(c.next)) {
        c.next += deltaMs;
        arming.arm(jobId, entryAt(jobId, c, c.next));
        n++;
      }
      // Written only when stored untagged (once): a tagged state, and the tagged slots its
      // watermark is derived from, read moved by the clock record.
      if (!c.framed) states.push(stateOfClock(jobId, c, offsetMs));
      continue;
    }
    if (!(deltaMs < 0 && kind !== 'event') || Number.isNaN(c.next)) continue;
    const before = c.next;
    rearm(jobId, c, now, arming);
    n++;
    if (!Object.is(before, c.next)) states.push(stateOfClock(jobId, c, offsetMs));
  }
  return { states, rearmed: n };
}
