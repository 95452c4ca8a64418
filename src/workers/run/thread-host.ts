/**
 * What a worker thread needs to host many job modules at once, installed once per thread:
 *
 * - **Which run is this?** An `AsyncLocalStorage` holds the {@link ThreadRun} whose code is running:
 *   the run's entry is called inside `runs.run(run, ...)`, so its awaits, timers and callbacks carry
 *   the run with them.
 * - **Output.** `process.stdout.write` / `process.stderr.write` (which `console.*` writes through) go
 *   to the current run's output ring; writes outside any run (or after it ended) go to the thread's
 *   real streams, i.e. the scheduler's own stdout/stderr.
 * - **`process.exit`** in a worker thread ends the whole thread, and every run on it. Here it ends
 *   only the calling run (code 0 → succeeded, else failed) by throwing a sentinel that unwinds the
 *   caller, and the thread is retired: it finishes its other runs and is replaced.
 * - **Escaped errors.** An uncaught exception or unhandled rejection would also end the thread. One
 *   raised from a run's code fails that run; an uncaught exception (from a run or not) retires the
 *   thread, since the code that threw may have left state half-changed.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import { errorMessage } from './job-module';
import type { ThreadRun } from './thread-run';

/** Thrown by the patched `process.exit` to unwind the module that called it. */
export class ThreadExit extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code}) ends only this run in a worker thread`);
  }
}

/** The thread-wide hosting state. */
export interface ThreadHost {
  /** The run whose code is executing. */
  runs: AsyncLocalStorage<ThreadRun>;
}

let host: ThreadHost | null = null;

/**
 * Installs the patches once (this is the one module-level value of the thread: the patches are
 * per thread by nature) and returns the host.
 * @param retire called (once is enough) when the thread should take no more work.
 */
export function installThreadHost(retire: (reason: string) => void): ThreadHost {
  if (host) return host;
  const runs = new AsyncLocalStorage<ThreadRun>();
  host = { runs };

  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const run = runs.getStore();
      if (run === undefined || run.settled) return original(chunk, ...rest);
      run.write(typeof chunk === 'string' || Buffer.isBuffer(chunk) ? chunk : String(chunk));
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (cb) queueMicrotask(cb);
      return true;
    }) as typeof stream.write;
  }

  process.exit = ((code?: number | string | null) => {
    const n = Number(code ?? process.exitCode ?? 0) || 0;
    const run = runs.getStore();
    if (run !== undefined && !run.settled) run.exited(n);
    retire(`a job module called process.exit(${n})`);
    throw new ThreadExit(n);
  }) as typeof process.exit;

  process.on('uncaughtException', (err) => {
    if (err instanceof ThreadExit) return;
    const run = runs.getStore();
    if (run !== undefined && !run.settled) run.fail(`uncaught exception: ${errorMessage(err)}`, err);
    else process.stderr.write(`rae-sched: uncaught exception in a module thread (no run to charge it to): ${format(err)}\n`);
    retire(`uncaught exception in a job module: ${errorMessage(err)}`);
  });
  process.on('unhandledRejection', (reason) => {
    if (reason instanceof ThreadExit) return;
    const run = runs.getStore();
    if (run !== undefined && !run.settled) run.fail(`unhandled promise rejection: ${errorMessage(reason)}`, reason);
    else process.stderr.write(`rae-sched: unhandled rejection in a module thread (no run to charge it to): ${format(reason)}\n`);
  });
  return host;
}
