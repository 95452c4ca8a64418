/**
 * Child-process entry for JS job modules: `node module-host.js FILE`. Running the module in its own
 * process (rather than in the worker thread) gives it the same limits, output capture and group
 * kill as a command. The run task reads a one-line JSON report from fd 3.
 *
 * Module contract (docs/jobs.md): export a default (or `run`) function `(ctx) => unknown`, sync or
 * async. `ctx = { jobId, runId, attempt, signal, log(...args) }`. A resolved value other than
 * `undefined` is printed to stdout as JSON; a throw or rejection fails the run with its message.
 */
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import type { RunEvent } from '../actors/executor/types';

/** The context handed to a job module. */
export interface JobContext {
  jobId: string;
  runId: string;
  attempt: number;
  /** What a file trigger saw, when one caused the run (docs/triggers.md), else null. */
  event: RunEvent | null;
  /** Aborted when the run is being stopped (timeout, limit, cancel, shutdown): finish up quickly. */
  signal: AbortSignal;
  /** Writes one line to the run's output (like console.log). */
  log(...args: unknown[]): void;
}

/** The file change of a watch-triggered run, from the variables the runner set (run/event-env.ts). */
export function eventFromEnv(env: NodeJS.ProcessEnv): RunEvent | null {
  const type = env.RAE_EVENT_TYPE;
  if (type !== 'create' && type !== 'update' && type !== 'delete') return null;
  let list = env.RAE_EVENT_PATHS ?? '';
  if (env.RAE_EVENT_PATHS_FILE !== undefined) {
    try {
      list = fs.readFileSync(env.RAE_EVENT_PATHS_FILE, 'utf8');
    } catch {
      list = env.RAE_EVENT_PATH ?? '';
    }
  }
  return { type, path: env.RAE_EVENT_PATH ?? '', paths: list.split('\n').filter((p) => p !== '') };
}

/** A job module's entry function. */
export type JobFunction = (ctx: JobContext) => unknown;

const REPORT_FD = 3;

// TypeScript compiles `import()` to `require()` under CommonJS; a real dynamic import loads both
// CommonJS and ES modules.
const importModule = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<Record<string, unknown>>;

function report(body: { ok: boolean; error?: string }): void {
  try {
    fs.writeSync(REPORT_FD, JSON.stringify(body) + '\n');
  } catch {
    // Run by hand, without fd 3: the exit code still tells the story.
  }
}

function pickEntry(mod: Record<string, unknown>): JobFunction | null {
  const candidates = [mod.default, mod.run, (mod.default as Record<string, unknown> | undefined)?.default,
    (mod.default as Record<string, unknown> | undefined)?.run];
  return (candidates.find((c) => typeof c === 'function') as JobFunction | undefined) ?? null;
}

function finish(code: number): void {
  // Exit only once stdout has flushed (it is a pipe), and do not wait for handles the module left open.
  process.stdout.write('', () => process.exit(code));
}

async function main(file: string | undefined): Promise<void> {
  if (!file) {
    report({ ok: false, error: 'module host: no module file given' });
    return finish(2);
  }
  const controller = new AbortController();
  // Handling SIGTERM turns the group kill's first signal into an abort the module can react to;
  // the runner's SIGKILL after the grace period still ends a module that ignores it.
  process.on('SIGTERM', () => controller.abort(new Error('the run is being stopped')));
  let entry: JobFunction | null;
  try {
    entry = pickEntry(await importModule(pathToFileURL(file).href));
  } catch (err) {
    report({ ok: false, error: `cannot load job module '${file}': ${(err as Error)?.message ?? String(err)}` });
    return finish(1);
  }
  if (!entry) {
    report({ ok: false, error: `job module '${file}' exports no default or 'run' function` });
    return finish(1);
  }
  const ctx: JobContext = {
    jobId: process.env.RAE_SCHED_JOB_ID ?? '',
    runId: process.env.RAE_SCHED_RUN_ID ?? '',
    attempt: Number(process.env.RAE_SCHED_ATTEMPT ?? 1),
    event: eventFromEnv(process.env),
    signal: controller.signal,
    log: (...args: unknown[]) => void process.stdout.write(format(...args) + '\n'),
  };
  let settled = false;
  // Node exits quietly (code 0) when a pending promise has nothing left to wait on: that is a job
  // that never finished, not a success.
  process.on('beforeExit', () => {
    if (settled) return;
    settled = true;
    report({ ok: false, error: 'the job module never settled: its promise was pending with nothing left to wait for' });
    finish(1);
  });
  try {
    const value = await entry(ctx);
    settled = true;
    if (value !== undefined) process.stdout.write(JSON.stringify(value) + '\n');
    report({ ok: true });
    finish(0);
  } catch (err) {
    settled = true;
    const message = err instanceof Error ? err.message : format(err);
    process.stderr.write(`${err instanceof Error && err.stack ? err.stack : message}\n`);
    report({ ok: false, error: message });
    finish(1);
  }
}

void main(process.argv[2]);
