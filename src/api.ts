/** The public Scheduler interface: what the Rae agent embeds and what the daemon serves. */
import type { Observable } from 'rxjs';
import type { Clock } from './runtime/clock';
import type { Job, JobSpec } from './model/job';
import type { Run, Slot } from './model/run';
import type { TriggerStatus } from './model/trigger-status';
import type { SchedulerEvent } from './model/events';

/** Minimal structured logger (pino-compatible). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child?(bindings: object): Logger;
}

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
   * QueueFullError (code `QUEUE_FULL`) and records nothing; a scheduled, triggered, dependent or
   * retry run that finds the queue full is recorded as a `skipped` run with the reason.
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
}

/** Thresholds of the health checks. Heartbeats and samples run in real time. */
export interface HealthOptions {
  /** How often every actor is sent a heartbeat. @default 5000 */
  heartbeatEveryMs?: number;
  /** An actor that has not answered its heartbeat within this is unhealthy. @default 10000 */
  heartbeatTimeoutMs?: number;
  /** Free space on the store's file system below this is unhealthy. @default 104857600 (100 MiB) */
  minFreeDiskBytes?: number;
  /** Event-loop delay (p99 over a sample window) above this is unhealthy. @default 1000 */
  maxEventLoopLagMs?: number;
  /** A fire this much past its time with no recorded outcome trips the dead-man's switch. @default 60000 */
  deadManToleranceMs?: number;
  /** A run this much past its timeout (the executor should have ended it) is unhealthy. @default 30000 */
  runTimeoutGraceMs?: number;
  /** How often free disk, store writability and event-loop lag are sampled. @default 5000 */
  sampleEveryMs?: number;
}

/** Per-component health. */
export interface ComponentHealth {
  healthy: boolean;
  /**
   * Works, but something needs a person's attention (e.g. a job's `--after` upstream no longer
   * exists). Does not make the component, or the whole, unhealthy.
   */
  degraded?: boolean;
  detail?: string;
  restarts?: number;
}

/** Result of `health()`. */
export interface Health {
  healthy: boolean;
  components: Record<string, ComponentHealth>;
}

/** Result of `stats()`. */
export interface Stats {
  jobs: { total: number; enabled: number; paused: number; done: number };
  runs: {
    total: number;
    succeeded: number;
    failed: number;
    timeout: number;
    killed: number;
    interrupted: number;
    skipped: number;
    successRate: number | null;
  };
  durationMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  queue: { depth: number; running: number; scheduled: number };
  restarts: Record<string, number>;
  uptimeMs: number;
}

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

/** The whole store as one JSON document (`rae-sched backup`). */
export interface BackupDocument {
  format: 'rae-sched-backup';
  version: 1;
  createdAt: string;
  jobs: Job[];
  runs: Run[];
  slots: Slot[];
}
