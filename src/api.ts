/** The public Scheduler interface: what the Rae agent embeds and what the daemon serves. */
import type { Observable } from 'rxjs';
import type { Clock } from './runtime/clock';
import type { Job, JobSpec } from './model/job';
import type { Run, Slot } from './model/run';
import type { TriggerStatus } from './model/trigger-status';
import type { SchedulerEvent } from './model/events';
import type { Logger } from './model/logger';
import type { Health, HealthOptions, Stats } from './model/health';
import type { BackupDocument } from './model/backup';

// Shapes the runtime and the actors share live in src/model; the facade re-exports them so the
// public API is unchanged (docs/architecture.md, "Layering").
export type { Logger } from './model/logger';
export type { ComponentHealth, Health, HealthOptions, Stats } from './model/health';
export type { BackupDocument } from './model/backup';

/**
 * Options of {@link createScheduler}.
 */
export interface SchedulerOptions {
  /** Data directory holding the LMDB store. */
  dataDir: string;
  /** Runs executing at once. @default 4 */
  maxConcurrentJobs?: number;
  /**
   * Runs waiting in the ready queue before new ones are refused: `runNow` rejects with
   * QueueFullError (code `QUEUE_FULL`) and records nothing; a scheduled, catch-up, triggered or
   * dependent run that finds the queue full is recorded as a `skipped` run with the reason. A run
   * that exists already — a retry, a run recovered at start-up — is never dropped: it waits
   * (stored `queued`) until the queue has room (docs/jobs.md "Retries after an outage").
   * @default 10000
   */
  maxQueuedJobs?: number;
  /** pino-compatible logger. @default a silent logger */
  logger?: Logger;
  /** Time source. @default SystemClock */
  clock?: Clock;
  /**
   * `'active'` fires schedules; `'offline'` only reads and writes the store (what the CLI uses when no
   * daemon runs: `add`, `list`, `history` ... with no timers armed). @default 'active'
   */
  mode?: 'active' | 'offline';
  /**
   * Runs and slots kept per job; older ones are pruned hourly, in bounded batches (runs still
   * queued or running are never pruned). @default 1000
   */
  historyPerJob?: number;
  /**
   * Longest one step of the run path may take — a store commit, handing runs to the executor —
   * before it counts as failed (a commit is then retried with backoff; runs not handed over are
   * recorded `interrupted` and retried per their policy). On the scheduler's clock. @default 30000
   */
  stepTimeoutMs?: number;
  /**
   * Also expose the process's own metrics in `metrics()` (prom-client's default collectors:
   * event-loop lag, heap, CPU, open handles). The daemon turns this on. @default false
   */
  processMetrics?: boolean;
  /** Thresholds of `health()`'s checks (docs/operations.md). */
  health?: HealthOptions;
  /**
   * Where the queue, executor, monitor and triggers actors run: `'main'` (the main thread) or
   * `'thread'` (each in its own worker thread, the same code: docs/runtime.md "Placement").
   * Persistence and parser always run in threads, the scheduler actor on the main thread.
   * @default every actor 'main'; the environment variable `RAE_SCHED_PLACEMENT=threads` makes
   * the default 'thread' for all four
   */
  placement?: Partial<Record<PlaceableActor, 'main' | 'thread'>>;
}

/** The actors whose placement is configuration ({@link SchedulerOptions.placement}). */
export type PlaceableActor = 'queue' | 'executor' | 'monitor' | 'triggers';

/** Explanation of a job's recent slots and what could block it (`rae-sched why`). */
export interface WhyReport {
  job: Job;
  slots: Slot[];
  nextRunAt: string | null;
  blockers: string[];
  /** Each trigger (and an `@reboot` schedule): its last fire and the runs it caused (also `job.triggerStatus`). */
  triggers: TriggerStatus[];
}

/** Paging of {@link Scheduler.listJobs}. */
export interface ListJobsOptions {
  /** Jobs per page, 1 to 10,000. @default 100 */
  limit?: number;
  /** The `next` cursor of the previous page; omitted for the first page. */
  after?: string;
}

/** One page of jobs, in creation (id) order. */
export interface JobPage {
  jobs: Job[];
  /** Cursor of the next page (pass it as `after`), or null when this page is the last. */
  next: string | null;
}

/** The scheduler, embedded as a library or hosted by the daemon. */
export interface Scheduler {
  addJob(spec: JobSpec): Promise<Job>;
  removeJob(idOrName: string): Promise<void>;
  getJob(idOrName: string): Promise<Job>;
  /** Every job, in creation order. */
  listJobs(): Promise<Job[]>;
  /**
   * One page of jobs. Reads a snapshot of the store: it never waits behind the scheduler's work.
   * @example
   * for (let page = await s.listJobs({ limit: 100 }); ; page = await s.listJobs({ limit: 100, after: page.next })) {
   *   show(page.jobs);
   *   if (page.next === null) break;
   * }
   */
  listJobs(opts: ListJobsOptions): Promise<JobPage>;
  pauseJob(idOrName: string): Promise<Job>;
  resumeJob(idOrName: string): Promise<Job>;
  /** Fires the job once now; resolves with the queued run. @throws QueueFullError when the ready queue is full */
  runNow(idOrName: string): Promise<Run>;
  /** Resolves when the run reaches a final status. */
  waitForRun(runId: string): Promise<Run>;
  /**
   * Resolves once this scheduler has no run left that is not final (running, queued, held, or
   * waiting for a retry). In-process schedulers only: what `rae-sched run` without a daemon waits
   * for, so a job's retries and its `--after` dependents run in the foreground too.
   */
  idle?(): Promise<void>;
  history(idOrName: string, opts?: { limit?: number }): Promise<Run[]>;
  why(idOrName: string): Promise<WhyReport>;
  health(): Promise<Health>;
  stats(): Promise<Stats>;
  /** Prometheus text exposition. */
  metrics(): Promise<string>;
  backup(): Promise<BackupDocument>;
  restore(doc: unknown): Promise<{ jobs: number; runs: number }>;
  readonly events$: Observable<SchedulerEvent>;
  shutdown(opts?: { graceMs?: number }): Promise<void>;
}
