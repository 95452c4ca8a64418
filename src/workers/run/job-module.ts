/**
 * The JS job module contract (docs/jobs.md "JS job modules"), shared by both ways of hosting a
 * module: a child process (`module-host.ts`) and a worker thread (`module-task.ts`).
 *
 * A module exports a default (or `run`) function `(ctx) => unknown`, sync or async, CommonJS or ES.
 * A resolved value other than `undefined` is appended to the output as one JSON line; a throw or
 * rejection fails the run with its message.
 */
import path from 'node:path';
import { format } from 'node:util';

/** The context handed to a job module. */
export interface JobContext {
  jobId: string;
  /** The job's name ('' when the executor was not told). */
  jobName: string;
  runId: string;
  /** 1 = first attempt. */
  attempt: number;
  /** Nominal time of the slot this run is for (ISO-8601), `null` when unknown. */
  scheduledAt: string | null;
  /**
   * The job's environment: its `env` over the scheduler's, plus `RAE_SCHED_JOB_ID`, `_RUN_ID`,
   * `_ATTEMPT`. In a thread, `process.env` is the scheduler's (shared by every run of the thread):
   * read the job's variables here.
   */
  env: Record<string, string | undefined>;
  /** Data of the trigger event that fired the run (file change, condition ...), else `null`. */
  event: unknown;
  /** Aborted when the run is being stopped (timeout, limit, cancel, shutdown): finish up quickly. */
  signal: AbortSignal;
  /** Writes one line to the run's output (formatted like console.log). */
  log(...args: unknown[]): void;
}

/** A job module's entry function. */
export type JobFunction = (ctx: JobContext) => unknown;

/**
 * A real dynamic `import()`: TypeScript compiles `import()` to `require()` under CommonJS, and only
 * `import()` loads both CommonJS and ES modules.
 */
export const importModule = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<Record<string, unknown>>;

/** The entry function of a loaded module namespace: `default`, `run`, or the same inside a CJS default. */
export function pickEntry(mod: Record<string, unknown>): JobFunction | null {
  const inner = mod.default as Record<string, unknown> | undefined;
  const candidates = [mod.default, mod.run, inner?.default, inner?.run];
  return (candidates.find((c) => typeof c === 'function') as JobFunction | undefined) ?? null;
}

/** The one-line text of a thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : format(err);
}

/** Why a module could not be used at all. */
export const loadError = (file: string, err: unknown): string => `cannot load job module '${file}': ${errorMessage(err)}`;
export const noEntryError = (file: string): string => `job module '${file}' exports no default or 'run' function`;

/** Frames of the scheduler's own hosting code (src/workers/**), which say nothing about the job. */
const HOST_DIR = path.join(__dirname, '..');

/** What a failed run's output gets for a thrown value: its stack without our hosting frames. */
export function stackText(err: unknown): string {
  if (!(err instanceof Error) || !err.stack) return errorMessage(err);
  return err.stack.split('\n').filter((line) => !line.includes(HOST_DIR) && !line.includes('node:internal/async_hooks')).join('\n');
}

