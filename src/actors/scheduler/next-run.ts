/** A job's next fire time as people see it (`nextRunAt` of `list` / `status`), from stored facts. */
import type { Job } from '../../model/job';
import { nextFire, type Schedule } from '../parser/schedule';
import type { ScheduleState } from '../persistence/schema';

/**
 * The job's next fire time. A running scheduler (`active`) has armed exactly the stored
 * `nextRunAt`. With no scheduler running, the stored `nextRunAt` is still what the next start-up
 * arms when it is ahead (and after the last handled slot); otherwise the next fire is computed from
 * now and the watermark, as start-up would.
 */
export function nextRunAtOf(job: Pick<Job, 'enabled' | 'completedAt' | 'createdAt'>, schedule: Schedule | undefined,
  state: ScheduleState | null, active: boolean, now: number): number | null {
  if (!job.enabled || job.completedAt !== null || schedule === undefined || schedule.kind === 'event') return null;
  const stored = state?.nextRunAt == null ? null : Date.parse(state.nextRunAt);
  if (active) return stored;
  const last = state?.lastSlotAt == null ? -Infinity : Date.parse(state.lastSlotAt);
  if (stored !== null && stored > now && stored > last) return stored;
  return nextFire(schedule, Math.max(now, last), Date.parse(state?.anchorAt ?? job.createdAt));
}
