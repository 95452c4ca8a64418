/**
 * rae-scheduler — the library's public API. This is the only import path the Rae agent uses.
 * @example
 * import { createScheduler, nextRuns } from 'rae-scheduler';
 * const s = await createScheduler({ dataDir: '/home/me/.rae-sched' });
 * await s.addJob({ name: 'backup', schedule: 'every weekday at 9am', command: 'backup.sh' });
 * nextRuns('0 9 * * MON-FRI', { tz: 'Europe/Berlin', count: 3 });
 */
export { createScheduler } from './scheduler';
export { nextRuns } from './actors/parser/schedule';
export { serveApi, type ServeApiOptions } from './http/serve';
export type { HttpOptions, HttpTimeouts } from './http/server';
export type {
  Scheduler, SchedulerOptions, Health, HealthOptions, ComponentHealth, Stats, WhyReport, BackupDocument, Logger, ListJobsOptions, JobPage,
} from './api';
export * from './errors';
export type {
  Job, JobSpec, JobState, Command, Limits, RetryPolicySpec, OverlapPolicy, CatchUpPolicy, TriggerSpec,
  Run, RunStatus, RunTrigger, Slot, SlotOutcome, SchedulerEvent, SchedulerEventType,
} from './model';
export { FINAL_RUN_STATUSES, parseDuration, parseSize } from './model';
export type { Clock, TimerHandle } from './runtime/clock';
export { SystemClock } from './runtime/clock';
