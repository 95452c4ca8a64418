/** A job's next fire time as people see it (`nextRunAt` of `list` / `status`), from stored facts. */
import type { Job } from '../../model/job';
import type { Schedule } from '../parser/schedule';
import { eventWordOf } from '../parser/english';
import type { ScheduleState, StateInstants } from '../persistence/schema';

/** A job's parsed schedule, parsed only when asked for, and the maths to use on it. */
export interface LazySchedule {
  /** The parsed schedule; undefined when the stored text no longer parses. */
  get(): Schedule | undefined;
  nextFire(s: Schedule, afterMs: number, anchorMs?: number): number | null;
}

/**
 * The job's next fire time. A running scheduler (`active`) has armed the stored `nextRunAt` when
 * it is after the watermark (else the slot after the watermark). With no scheduler running, the stored `nextRunAt` is still what the next start-up
 * arms when it is ahead (and after the last handled slot); otherwise the next fire is computed from
 * now and the watermark, as start-up would. `scheduleOf` is called only in that last case (or
 * to tell an unparsable schedule in active mode): an offline `list` of jobs whose stored slot is
 * ahead parses nothing — and loads no cron library.
 */
export function nextRunAtOf(job: Pick<Job, 'enabled' | 'completedAt' | 'createdAt' | 'schedule'>, scheduleOf: LazySchedule,
  state: StateInstants | null, active: boolean, now: number): number | null {
  if (!job.enabled || job.completedAt !== null || eventWordOf(job.schedule) !== null) return null;
  const stored = state === null || Number.isNaN(state.next) ? null : state.next;
  const last = state === null || Number.isNaN(state.last) ? -Infinity : state.last;
  if (active) {
    if (scheduleOf.get() === undefined) return null;
    // A fire writes no state (the store derives the watermark from the newest slot, schema 4):
    // a stored next slot after the watermark is the armed one; otherwise it follows from the watermark.
    if (stored !== null && stored > last) return stored;
  } else if (stored !== null && stored > now && stored > last) {
    return stored;
  }
  const schedule = scheduleOf.get();
  if (schedule === undefined || schedule.kind === 'event') return null;
  return scheduleOf.nextFire(schedule, Math.max(now, last), state === null || Number.isNaN(state.anchor) ? Date.parse(job.createdAt) : state.anchor);
}

/** A stored schedule state's instants, as {@link nextRunAtOf} takes them. */
export function instantsOf(s: ScheduleState | null): StateInstants | null {
  if (s === null) return null;
  const ms = (v: string | null): number => (v === null ? NaN : Date.parse(v));
  return { last: ms(s.lastSlotAt), next: ms(s.nextRunAt), anchor: ms(s.anchorAt) };
}
