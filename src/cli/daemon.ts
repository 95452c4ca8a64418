/**
 * `rae-sched daemon`: hosts the scheduler in the foreground, serves the control API on the data
 * directory's socket, and on SIGINT/SIGTERM shuts down gracefully and exits 0.
 */
import { mkdir } from 'node:fs/promises';
import pino from 'pino';
import type { Logger, Scheduler } from '../api';
import { ControlServer } from './server';
import { PidLock } from './lock';
import { dataDirPaths } from './paths';

/** Options of {@link runDaemon}. */
export interface DaemonOptions {
  dataDir: string;
  /** How long running jobs may finish after a stop signal before they are killed. @default 10000 */
  graceMs: number;
  /** Where the human-facing copy of the log goes. @default process.stderr (fd 2) */
  logToStderr?: boolean;
}

/** The daemon's log and how to get its buffered lines out. */
export interface DaemonLog {
  logger: pino.Logger;
  /** Writes out every buffered line now (synchronously). Safe to call at any time, and at exit. */
  flush(): void;
}

/**
 * The daemon's structured log: JSON lines to `<dataDir>/logs/daemon.log` and to stderr, at info.
 * Asynchronous destinations (SonicBoom buffers up to 4 KiB and writes in the background): a line per
 * run must not cost the hot path a write syscall. `flush()` runs at shutdown and at process exit,
 * so the last lines (shutdown, errors) still reach the file.
 */
export function createDaemonLog(logFile: string, toStderr: boolean): DaemonLog {
  const dests = [pino.destination({ dest: logFile, sync: false, mkdir: true, minLength: 4096 })];
  if (toStderr) dests.push(pino.destination({ dest: 2, sync: false, minLength: 4096 }));
  const logger = pino({ level: 'info', base: { pid: process.pid, name: 'rae-sched' } },
    pino.multistream(dests.map((stream) => ({ level: 'info' as const, stream }))));
  const flush = (): void => {
    for (const d of dests) {
      try {
        d.flushSync();
      } catch {
        // Not open yet (nothing buffered) or already closed.
      }
    }
  };
  process.once('exit', flush);
  return { logger, flush };
}

/**
 * Runs the daemon until SIGINT/SIGTERM. Resolves with the exit code once everything is shut down.
 * @throws ConflictError when another daemon runs on the data directory (lock held or socket answering).
 */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const paths = dataDirPaths(opts.dataDir);
  // 0700: the socket, the store and the logs are the owner's only.
  await mkdir(paths.dataDir, { recursive: true, mode: 0o700 });
  await mkdir(paths.logDir, { recursive: true, mode: 0o700 });
  const daemonLog = createDaemonLog(paths.logFile, opts.logToStderr ?? true);
  const log = daemonLog.logger;
  const lock = await PidLock.acquire(paths.pidFile);
  // Listen from the start: a signal during start-up must still end in a clean shutdown, not in
  // Node's default exit that would leave the socket and lock behind.
  let first: (sig: NodeJS.Signals) => void = () => undefined;
  const stopSignal = new Promise<NodeJS.Signals>((resolveSignal) => (first = resolveSignal));
  process.on('SIGINT', first);
  process.on('SIGTERM', first);

  let server: ControlServer | undefined;
  let scheduler: Scheduler | undefined;
  try {
    const { createScheduler } = await import('../index');
    scheduler = await createScheduler({ dataDir: paths.dataDir, mode: 'active', processMetrics: true, logger: log as unknown as Logger });
    server = await ControlServer.start(scheduler, paths.socket, log as unknown as Logger);
  } catch (err) {
    process.off('SIGINT', first);
    process.off('SIGTERM', first);
    await scheduler?.shutdown({ graceMs: 0 }).catch(() => undefined);
    await lock.release();
    daemonLog.flush();
    throw err;
  }
  log.info({ dataDir: paths.dataDir, socket: paths.socket, graceMs: opts.graceMs }, 'daemon listening');

  const signal = await stopSignal;
  process.off('SIGINT', first);
  process.off('SIGTERM', first);
  // Later signals while shutting down are logged, not fatal: a second Ctrl-C must not leave a
  // half-closed store behind (the grace period is the bound).
  const repeat = (sig: NodeJS.Signals): void => log.warn({ signal: sig }, 'already shutting down');
  process.on('SIGINT', repeat);
  process.on('SIGTERM', repeat);

  log.info({ signal, graceMs: opts.graceMs }, 'shutting down');
  let code = 0;
  try {
    server.stopAccepting();
    await scheduler.shutdown({ graceMs: opts.graceMs });
  } catch (err) {
    code = 1;
    log.error({ err }, 'scheduler shutdown failed');
  } finally {
    await server.close();
    await lock.release();
    process.off('SIGINT', repeat);
    process.off('SIGTERM', repeat);
  }
  log.info({ code }, 'daemon stopped');
  daemonLog.flush();
  // Everything we own is closed. Should a dependency still hold the event loop open, do not hang
  // past the grace period: the contract is "exit 0 after shutdown" (unref'd, so it never delays a clean exit).
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}
