/**
 * Typed protocol between the executor (main thread) and what runs jobs: the run host process
 * (process runs) and the module threads. Everything here crosses a process or thread boundary by
 * structured clone, so it is plain data.
 */
import type { Containment } from '../../workers/run/cgroup-detect';
import type { Command, Isolation, Limits } from '../../model/job';

/** Default size of the output ring: the last 64 KiB of stdout+stderr are kept. */
export const DEFAULT_OUTPUT_LIMIT_BYTES = 64 * 1024;
/** Default time between SIGTERM and SIGKILL when a run's process group is killed. */
export const DEFAULT_KILL_GRACE_MS = 2000;

/**
 * What a file trigger saw, handed to the run that it caused: the first change of the debounced
 * burst (`type`, `path`) and every distinct path of the burst, in order (`paths`).
 */
export interface RunEvent {
  type: 'create' | 'update' | 'delete';
  path: string;
  paths: string[];
}

/** One run to execute: exactly one of `command` / `module` is set. */
export interface RunRequest {
  runId: string;
  jobId: string;
  /** 1 = first attempt. */
  attempt: number;
  command: Command | null;
  /** Path of a JS job module; relative paths resolve against `cwd` (else the scheduler's cwd). */
  module: string | null;
  /**
   * Where a module runs. Absent means `process`: module jobs stored before isolation existed keep
   * running the way they were added (new jobs are filled with `thread`). Ignored for commands.
   */
  isolation?: Isolation;
  /** The job's name, for the module's context. */
  jobName?: string;
  /** Nominal time of the slot this run is for (ISO), for the module's context. */
  scheduledAt?: string;
  /** Working directory; `null` = the scheduler's. */
  cwd: string | null;
  /** The job's own variables, over the clean base environment (src/workers/run/job-env.ts). */
  env: Record<string, string>;
  /** `true`: the scheduler's whole environment; names: those too; absent/false: clean. */
  inheritEnv?: boolean | string[];
  limits: Limits;
  /**
   * The trigger event that caused the run — today the file change of a watch trigger — else
   * null/absent. A command gets it as RAE_EVENT_TYPE / RAE_EVENT_PATH / RAE_EVENT_PATHS
   * (docs/triggers.md); a module's context as `event` (plain JSON: it crosses to threads and processes).
   */
  event?: RunEvent | null;
  /** Bytes of stdout+stderr kept (the last ones). @default 65536 */
  outputLimitBytes?: number;
  /** SIGTERM → SIGKILL grace when the group is killed. @default 2000 */
  killGraceMs?: number;
  /** Usage sampling period of runs with a memory or CPU limit. @default 250 */
  sampleIntervalMs?: number;
}

/** Final statuses a run task can produce. */
export type RunOutcome = 'succeeded' | 'failed' | 'timeout' | 'killed' | 'interrupted';

/** What a finished run task reports. Failures are data: the task never throws for a job's failure. */
export interface RunResult {
  status: RunOutcome;
  exitCode: number | null;
  /** Signal name (e.g. `SIGKILL`) when the main process died of a signal. */
  signal: string | null;
  /** Epoch ms (wall clock) when the process was spawned (or when the run was given up before spawning). */
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  /**
   * Process runs: highest summed RSS of the process group seen by the sampler. Thread runs: highest
   * JS heap of the thread seen. `null` when not sampled: only runs with a memory or CPU limit are.
   */
  peakMemoryBytes: number | null;
  error: string | null;
  /** The last `outputLimitBytes` of stdout+stderr, interleaved in arrival order. */
  output: string;
}

/** Why a run is cancelled from outside. `shutdown` → `interrupted`; `replace` and `manual` → `killed`. */
export type CancelReason = 'shutdown' | 'replace' | 'manual';

/** Set by the executor in its run host's environment (the host removes it at once: jobs never see it). @internal */
export const RUN_HOST_ENV = 'RAE_SCHED_RUN_HOST';

/**
 * What the executor sends its run host process (src/workers/run-host.ts) over the IPC channel; a
 * batch of these goes as one message. `init` comes first: the host names the cgroups and marks
 * the runs' processes as this scheduler's (owner token), with the containment this process chose.
 * @internal
 */
export type ToHostMessage =
  | { t: 'init'; owner: string; containment: Containment }
  | { t: 'run'; key: number; request: RunRequest }
  | { t: 'cancel'; key: number; reason: CancelReason };

/** What the run host sends back, batched the same way: `started` always precedes its `done`. @internal */
export type FromHostMessage =
  | { t: 'started'; key: number; pid: number; startedAt: number }
  | { t: 'done'; key: number; result: RunResult };
