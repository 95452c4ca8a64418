/**
 * Typed protocol between the executor (main thread) and the thread-module task
 * (`src/workers/module-task.ts`, Piscina worker threads). Plain data: it crosses by structured clone.
 *
 * - One Piscina task carries a **batch** of runs (many runs per message); it resolves once every run
 *   of it settled, with the results not already sent.
 * - Results of runs that settle while others of their batch are still going are sent early, grouped
 *   per event-loop turn, as {@link ModuleThreadEvent} `results` on the worker's `parentPort`
 *   (Piscina re-emits those as the pool's `message` event).
 * - Cancels go to every thread of the pool on one `BroadcastChannel` (cancels are rare; no per-run
 *   port is created, which is what a per-run MessageChannel would cost at tens of thousands of runs/s).
 * @internal
 */
import type { CancelReason, RunEvent, RunOutcome, RunRequest, RunResult } from './types';
import { runResult } from './result';

/** The Piscina task payload. */
export interface ModuleTaskPayload {
  /** Id of this batch in its pool, to match early results. */
  batch: number;
  /** A solo task (timeout or memory cap) runs alone on its thread and reports when it starts. */
  solo: boolean;
  /**
   * One request per job of the batch (the first of its runs, as the executor got it: the thread
   * fills its defaults); a run's own fields come from its {@link PackedRequest}.
   */
  jobs: RunRequest[];
  /** The runs, in order. */
  runs: PackedRequest[];
}

/**
 * One run of a task: what differs between runs of the same job, as a tuple. Sending each run's
 * whole request copied its module path, names and a dozen property names per run; a batch of
 * runs of one job now carries the job's part once (ser + deser ~4x cheaper per run).
 */
export type PackedRequest = [runId: string, job: number, attempt: number, scheduledAt: string | undefined, event: RunEvent | null | undefined];

/** Fields every run of one job shares (compared by identity: they come from the same spec object). */
const JOB_FIELDS = [
  'jobId', 'command', 'module', 'isolation', 'jobName', 'cwd', 'env', 'inheritEnv', 'limits',
  'outputLimitBytes', 'killGraceMs', 'sampleIntervalMs',
] as const satisfies ReadonlyArray<keyof RunRequest>;

const sameJob = (a: RunRequest, b: RunRequest): boolean => JOB_FIELDS.every((k) => a[k] === b[k]);

/** Packs a batch's requests: each job's part once, each run's own fields as a tuple. */
export function packRequests(reqs: readonly RunRequest[]): Pick<ModuleTaskPayload, 'jobs' | 'runs'> {
  const jobs: RunRequest[] = [];
  const byJob = new Map<string, number[]>();
  const runs = reqs.map((r): PackedRequest => {
    let seen = byJob.get(r.jobId);
    if (seen === undefined) byJob.set(r.jobId, (seen = []));
    let j = seen.find((i) => sameJob(jobs[i]!, r));
    if (j === undefined) {
      j = jobs.push(r) - 1;
      seen.push(j);
    }
    return [r.runId, j, r.attempt, r.scheduledAt, r.event];
  });
  return { jobs, runs };
}

/** The requests of a task, in order (the inverse of {@link packRequests}). */
export function unpackRequests(task: Pick<ModuleTaskPayload, 'jobs' | 'runs'>): RunRequest[] {
  return task.runs.map(([runId, j, attempt, scheduledAt, event]) => ({ ...task.jobs[j]!, runId, attempt, scheduledAt, event }));
}

/**
 * A thread run's result as it crosses back: a tuple, not an object. Structured clone writes every
 * property name of every object it copies; 64 results of 9 named fields per batch were a tenth of
 * the executor's main-thread time (bench/executor-module.ts).
 */
export type PackedResult = [
  status: RunOutcome, exitCode: number | null, startedAt: number, finishedAt: number,
  peakMemoryBytes: number | null, error: string | null, output: string,
];

/** Packs a thread run's result (its `signal` is always null: no process). */
export function packResult(r: RunResult): PackedResult {
  return [r.status, r.exitCode, r.startedAt, r.finishedAt, r.peakMemoryBytes, r.error, r.output];
}

/** The RunResult of a {@link PackedResult}. */
export function unpackResult(p: PackedResult): RunResult {
  const [status, exitCode, startedAt, finishedAt, peakMemoryBytes, error, output] = p;
  return runResult({ status, exitCode, startedAt, finishedAt, peakMemoryBytes, error, output });
}

/** The task's value: per run, its result, or `null` if it was already sent as an event. */
export type ModuleTaskResult = Array<PackedResult | null>;

/** Messages a module thread posts on its parentPort. */
export type ModuleThreadEvent =
  | { type: 'rae.results'; batch: number; items: Array<[index: number, result: PackedResult]> }
  | { type: 'rae.started'; batch: number; runId: string; startedAt: number }
  /** The thread should not take more work (a module called process.exit, escaped an error, or too many reloads). */
  | { type: 'rae.retire'; reason: string };

/** Messages to every module thread of a pool. */
export type ModuleThreadCommand = { type: 'cancel'; runId: string; reason: CancelReason };

/** `workerData` of a module thread. */
export interface ModuleThreadData {
  /** Name of the pool's BroadcastChannel for {@link ModuleThreadCommand}s. */
  commands: string;
}

/** Whether a Piscina `message` is one of ours. */
export function isModuleThreadEvent(msg: unknown): msg is ModuleThreadEvent {
  const t = (msg as { type?: unknown } | null)?.type;
  return t === 'rae.results' || t === 'rae.started' || t === 'rae.retire';
}
