/** Where a data directory keeps the daemon's files (CONTRACT.md "Data directory"). */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The files of one data directory that the CLI and the daemon share. */
export interface DataDirPaths {
  /** Absolute data directory. */
  dataDir: string;
  /** The control socket (`<dataDir>/rae-sched.sock`). */
  socket: string;
  /** The daemon's lock: its pid, written while it runs. */
  pidFile: string;
  /** Folder of the daemon's log files. */
  logDir: string;
  /** The daemon's structured log. */
  logFile: string;
  /** The LMDB environment (`STORE_DIR` of src/actors/persistence/tables.ts, not imported: that loads lmdb). */
  store: string;
}

/**
 * The data directory: `--data-dir`, else `$RAE_SCHED_HOME`, else `~/.rae-sched`, made absolute
 * against the caller's cwd (the daemon's cwd may differ, so a relative path must not travel).
 */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag !== undefined && flag !== '' ? flag : env.RAE_SCHED_HOME || join(homedir(), '.rae-sched');
  return resolve(chosen);
}

/** The paths of the files inside `dataDir`. */
export function dataDirPaths(dataDir: string): DataDirPaths {
  const logDir = join(dataDir, 'logs');
  return {
    dataDir,
    socket: join(dataDir, 'rae-sched.sock'),
    pidFile: join(dataDir, 'rae-sched.pid'),
    logDir,
    logFile: join(logDir, 'daemon.log'),
    store: join(dataDir, 'store'),
  };
}
