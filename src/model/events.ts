/** The typed event bus protocol: what the monitor, persistence and API subscribers observe. */
import type { Job } from './job';
import type { Run, Slot } from './run';

/** Every lifecycle event. `at` is ISO time from the scheduler's clock. */
export type SchedulerEvent =
  | { type: 'scheduler.started'; at: string }
  | { type: 'scheduler.stopping'; at: string }
  /** The root supervisor gave up: nothing fires any more. The daemon exits non-zero on it. */
  | { type: 'scheduler.failed'; at: string; reason: string }
  | { type: 'job.added'; at: string; job: Job }
  | { type: 'job.updated'; at: string; job: Job }
  | { type: 'job.removed'; at: string; jobId: string; name: string }
  | { type: 'run.queued'; at: string; run: Run }
  | { type: 'run.started'; at: string; run: Run }
  | { type: 'run.finished'; at: string; run: Run }
  | { type: 'slot.recorded'; at: string; slot: Slot }
  | { type: 'actor.restarted'; at: string; actor: string; reason: string }
  | { type: 'actor.failed'; at: string; actor: string; reason: string }
  | { type: 'clock.jumped'; at: string; deltaMs: number };

/** The `type` strings of SchedulerEvent. */
export type SchedulerEventType = SchedulerEvent['type'];
