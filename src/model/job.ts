/** Data shapes of jobs, as users see them (CONTRACT.md "Job (JSON)"). */
import type { Run, RunTimes } from './run';
import type { TriggerStatus } from './trigger-status';

/** The overlap policies, in CONTRACT order: the one list the schema, the CLI and the policy use. */
export const OVERLAP_POLICIES = ['skip', 'queue', 'allow', 'replace'] as const;
/** What happens when a job's slot comes while a previous run of it is still running. */
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];
/** The catch-up policies, in CONTRACT order. */
export const CATCH_UP_POLICIES = ['none', 'once', 'all'] as const;
/** What happens to slots missed while the scheduler was down. */
export type CatchUpPolicy = (typeof CATCH_UP_POLICIES)[number];

/** A command: one shell string, or an argv run without a shell. */
export type Command = string | { argv: string[] };

/** Event triggers attached to a job (besides its schedule). */
export type TriggerSpec =
  | { type: 'watch'; paths: string[]; debounceMs?: number }
  | { type: 'after'; job: string; on: 'succeeded' | 'failed' | 'finished' }
  | { type: 'when'; condition: string; cooldownMs?: number };

/**
 * Where a JS module job runs: `thread` (default) imports it into one of the executor's worker
 * threads, cached between runs; `process` starts a child `node` process per run. Commands always
 * run in their own process. docs/jobs.md "Thread or process".
 */
export type Isolation = 'process' | 'thread';

/** Resource limits enforced on each run. */
export interface Limits {
  timeoutMs?: number;
  maxMemoryBytes?: number;
  maxCpuPercent?: number;
}

/** Retry policy: `maxRetries` further attempts, the first after `backoffMs`, doubling (with jitter, capped). */
export interface RetryPolicySpec {
  maxRetries: number;
  backoffMs: number;
}

/**
 * Input to `addJob`. Only `name`, `schedule` and one of `command` / `module` are required.
 * @example
 * await s.addJob({ name: 'backup', schedule: 'every day at 02:00', command: 'tar czf /tmp/b.tgz ~/docs' })
 */
export interface JobSpec {
  name: string;
  schedule: string;
  command?: Command;
  /** Path of a JS job module (instead of a command). */
  module?: string;
  /** Module jobs only: run in a worker thread or a child process. @default 'thread' */
  isolation?: Isolation;
  /** IANA zone; `null`/absent means the machine's zone. */
  timezone?: string | null;
  /** Higher runs first. @default 0 */
  priority?: number;
  retry?: Partial<RetryPolicySpec>;
  limits?: Limits;
  /** @default 'skip' */
  overlap?: OverlapPolicy;
  /** @default 'once' */
  catchUp?: CatchUpPolicy;
  cwd?: string;
  /** Variables added to the run's environment (names: no '=', not empty). */
  env?: Record<string, string>;
  /**
   * What the run inherits of the scheduler's own environment: `false` (default) only PATH, HOME,
   * USER, LOGNAME, SHELL, LANG, TZ; `true` everything; a list of names: those too.
   * @default false
   */
  inheritEnv?: boolean | string[];
  triggers?: TriggerSpec[];
  /** Random delay in [0, jitterMs) added to each scheduled fire. @default 0 */
  jitterMs?: number;
  /** @default true */
  enabled?: boolean;
}

/** Derived state shown by `status`. */
export type JobState = 'scheduled' | 'paused' | 'done' | 'waiting';

/**
 * A job as `rae-sched list`'s table shows it: only what its columns need (a whole {@link Job} is
 * one too). The offline `list` reads these without decoding job specs (src/reads/read-view.ts).
 */
export interface JobRow {
  id: string;
  name: string;
  schedule: string;
  scheduleText?: string | null;
  timezone: string | null;
  state: JobState;
  nextRunAt: string | null;
  lastRun: RunTimes | null;
}

/** A stored job. */
export interface Job {
  id: string;
  name: string;
  /** Canonical schedule text: a one-time schedule is stored as the instant it resolved to (`at <ISO>`). */
  schedule: string;
  /**
   * The schedule as it was typed, when that differs from `schedule` (`tomorrow at 9am`, `in 10
   * minutes`, `at 2027-01-01T09:00`); null or absent otherwise (and in jobs stored before it existed).
   */
  scheduleText?: string | null;
  timezone: string | null;
  command: Command | null;
  module: string | null;
  /**
   * Module jobs: `thread` or `process`; `null` for command jobs. A module job stored before this
   * field existed reads as absent and runs as `process`, the way it was added.
   */
  isolation?: Isolation | null;
  enabled: boolean;
  priority: number;
  retry: RetryPolicySpec;
  limits: Limits;
  overlap: OverlapPolicy;
  catchUp: CatchUpPolicy;
  cwd: string | null;
  env: Record<string, string>;
  /** See {@link JobSpec.inheritEnv}. Absent in jobs stored before it existed: `false`. */
  inheritEnv?: boolean | string[];
  triggers: TriggerSpec[];
  jitterMs: number;
  createdAt: string;
  updatedAt: string;
  /** Set when a one-time job has fired its only slot: it stays, with its history, but never fires again. */
  completedAt: string | null;
  nextRunAt: string | null;
  lastRun: Run | null;
  state: JobState;
  /**
   * Each trigger (and an `@reboot` schedule) with its last fire and the runs it caused. Only in
   * `getJob` (`status`) and `why` answers, not in `listJobs`; never stored with the job.
   */
  triggerStatus?: TriggerStatus[];
}
