/**
 * Which Scheduler a command talks to: the daemon over its socket when one answers, else the store
 * opened directly on this thread (LMDB is safe across processes), with no actor system booted
 * ({@link DirectScheduler}). Either way the result is the same.
 */
import { DaemonUnavailableError } from '../errors';
import type { Scheduler } from '../api';
import { RemoteScheduler, connectDaemon } from './client';
import { dataDirPaths } from './paths';
import { checkStoreFiles } from '../actors/persistence/store-check';

/** An open Scheduler and how to let go of it. */
export interface Backend {
  scheduler: Scheduler;
  /** True when a daemon serves the calls. */
  remote: boolean;
  close(): Promise<void>;
}

/**
 * Opens the Scheduler for `dataDir`. With `requireDaemon`, no daemon is a DaemonUnavailableError
 * (`events` has nothing to stream from a store at rest).
 */
export async function openBackend(dataDir: string, opts: { requireDaemon?: string } = {}): Promise<Backend> {
  const { socket } = dataDirPaths(dataDir);
  const connected = await connectDaemon(socket);
  if (connected !== null) {
    const remote = new RemoteScheduler(socket, connected);
    return { scheduler: remote, remote: true, close: () => remote.shutdown() };
  }
  if (opts.requireDaemon !== undefined) {
    throw new DaemonUnavailableError(
      `${opts.requireDaemon} needs a running daemon, and none answers on ${socket} (start one with \`rae-sched daemon --data-dir ${dataDir}\`)`,
    );
  }
  // A store LMDB cannot map safely is refused here, with one line, before any thread starts.
  checkStoreFiles(dataDir);
  // Loaded on demand: commands that never open the store (`next`, `--help`) stay fast.
  const { DirectScheduler } = await import('./direct');
  const scheduler = await DirectScheduler.open(dataDir);
  return { scheduler, remote: false, close: () => scheduler.shutdown() };
}
