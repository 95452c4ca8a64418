/**
 * `rae-sched daemon`: hosts the scheduler in the foreground, serves the control API on the data
 * directory's socket, and on SIGINT/SIGTERM shuts down gracefully and exits 0.
 *
 * Start-up order matters (issue 9): stop signals are caught first (bin/rae-sched, then here), the
 * data directory's lock is taken before anything else starts — a refused daemon touches nothing of
 * the running one's — and only then come the log, the store, the scheduler and the socket. When
 * the scheduler's root supervisor gives up, the daemon exits non-zero (after cleaning up) so a
 * process manager restarts it, instead of lingering half-alive.
 */
import { mkdir } from 'node:fs/promises';
import type { Logger, Scheduler } from '../api';
import type { HttpOptions } from '../http/server';
import type { InternalOptions } from '../scheduler';
import { ControlServer } from './server';
import { DataDirLock } from './lock';
import { dataDirPaths } from './paths';
import { catchStopSignals, nextStopSignal, releaseStopSignals, stopSignalReceived } from './early-signals';
import { createDaemonLog, type DaemonLog } from './daemon-log';

export { createDaemonLog, type DaemonLog } from './daemon-log';
import { HotBackups } from './hot-backup';
import { checkStoreFiles } from '../actors/persistence/store-check';

/** Options of {@link runDaemon}. */
export interface DaemonOptions {
  dataDir: string;
  /** How long running jobs may finish after a stop signal before they are killed. @default 10000 */
  graceMs: number;
  /** Where the human-facing copy of the log goes. @default process.stderr (fd 2) */
  logToStderr?: boolean;
  /** Also serve the API and the dashboard on TCP (`--http HOST:PORT`); tokens come from this data directory. */
  http?: Omit<HttpOptions, 'dataDir'>;
  /** Take a hot backup of the store this often (ms); absent: no automatic backups. */
  backupEveryMs?: number;
  /** How many automatic backups to keep. @default 7 */
  backupKeep?: number;
  /** Health's free-disk floor under the store (`--min-free-disk`). @default 100 MiB */
  minFreeDiskBytes?: number;
}

/** Exit code of a daemon whose scheduler failed for good (CONTRACT: 1 = the operation failed). */
export const EXIT_FAILED = 1;

/**
 * Runs the daemon until SIGINT/SIGTERM (or a fatal failure). Resolves with the exit code once
 * everything is shut down.
 * @throws ConflictError when another daemon holds the data directory's lock.
 */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  catchStopSignals();
  const paths = dataDirPaths(opts.dataDir);
  let lock: DataDirLock;
  try {
    // 0700: the socket, the store and the logs are the owner's only.
    await mkdir(paths.dataDir, { recursive: true, mode: 0o700 });
    lock = DataDirLock.acquire(paths.lockFile, paths.pidFile);
  } catch (err) {
    releaseStopSignals();
    throw err;
  }
  let server: ControlServer | undefined;
  let scheduler: Scheduler | undefined;
  let backups: HotBackups | undefined;
  let daemonLog: DaemonLog | undefined;
  let log: DaemonLog['logger'] | undefined;
  const cleanUp = async (): Promise<void> => {
    backups?.stop();
    await server?.close().catch(() => undefined);
    lock.release();
    releaseStopSignals();
    daemonLog?.flush();
  };

  let fatal: (reason: string) => void = () => undefined;
  const failed = new Promise<string>((resolveFailed) => (fatal = resolveFailed));
  try {
    await mkdir(paths.logDir, { recursive: true, mode: 0o700 });
    daemonLog = createDaemonLog(paths.logFile, opts.logToStderr ?? true);
    log = daemonLog.logger;
    // A store that cannot be mapped safely is refused here, with one line, before LMDB sees it.
    checkStoreFiles(paths.dataDir);
    if (stopSignalReceived() === null) {
      const { createScheduler } = await import('../index');
      const options: InternalOptions = {
        dataDir: paths.dataDir, mode: 'active', processMetrics: true, logger: log as unknown as Logger,
        // Long-lived: spare threads make a dead persistence/parser thread's restart fast (docs/runtime.md).
        standby: true,
        ...(opts.minFreeDiskBytes !== undefined ? { health: { minFreeDiskBytes: opts.minFreeDiskBytes } } : {}),
      };
      scheduler = await createScheduler(options);
      scheduler.events$.subscribe((e) => {
        if (e.type === 'scheduler.failed') fatal(e.reason);
      });
    }
    if (stopSignalReceived() === null && scheduler) {
      server = await ControlServer.start(scheduler, paths.socket, log as unknown as Logger,
        opts.http ? { http: { ...opts.http, dataDir: paths.dataDir } } : {});
      if (opts.backupEveryMs !== undefined) {
        backups = new HotBackups({
          dataDir: paths.dataDir, dir: paths.backupDir, everyMs: opts.backupEveryMs, keep: opts.backupKeep ?? 7,
          logger: log as unknown as Logger,
        });
        backups.start();
      }
    }
  } catch (err) {
    await scheduler?.shutdown({ graceMs: 0 }).catch(() => undefined);
    await cleanUp();
    throw err;
  }
  if (server) log.info({ dataDir: paths.dataDir, socket: paths.socket, http: server.httpUrl ?? undefined, graceMs: opts.graceMs }, 'daemon listening');

  const outcome = await Promise.race([
    nextStopSignal().then((signal) => ({ signal, reason: null })),
    failed.then((reason) => ({ signal: null, reason })),
  ]);
  // Later signals while shutting down are logged, not fatal: a second Ctrl-C must not leave a
  // half-closed store behind (the grace period is the bound).
  const repeat = (sig: NodeJS.Signals): void => log?.warn({ signal: sig }, 'already shutting down');
  process.on('SIGINT', repeat);
  process.on('SIGTERM', repeat);

  let code = 0;
  if (outcome.reason !== null) {
    code = EXIT_FAILED;
    log.error({ reason: outcome.reason }, 'the scheduler failed and cannot go on: exiting so a process manager restarts it');
  } else {
    log.info({ signal: outcome.signal, graceMs: opts.graceMs }, 'shutting down');
  }
  try {
    server?.stopAccepting();
    await scheduler?.shutdown({ graceMs: outcome.reason !== null ? 0 : opts.graceMs });
  } catch (err) {
    code = EXIT_FAILED;
    log.error({ err }, 'scheduler shutdown failed');
  } finally {
    await cleanUp();
    process.off('SIGINT', repeat);
    process.off('SIGTERM', repeat);
  }
  log.info({ code }, 'daemon stopped');
  daemonLog?.flush();
  // Everything we own is closed. Should a dependency still hold the event loop open, do not hang
  // past the grace period: the contract is "exit 0 after shutdown" (unref'd, so it never delays a clean exit).
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}
