/** Where a data directory keeps the daemon's files (CONTRACT.md "Data directory"). */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The files of one data directory that the CLI and the daemon share. */
export interface DataDirPaths {
  /** Absolute data directory. */
  dataDir: string;
  /** The control socket (`<dataDir>/rae-sched.sock`). */
  socket: string;
  /** The daemon's pid, written while it runs (information only: the lock is {@link lockFile}). */
  pidFile: string;
  /** The file the daemon holds an exclusive flock on while it runs (src/cli/lock.ts). */
  lockFile: string;
  /** Folder of the automatic hot backups (`daemon --backup-every`). */
  backupDir: string;
  /** Folder of the daemon's log files. */
  logDir: string;
  /** The daemon's structured log. */
  logFile: string;
  /** The LMDB environment (`STORE_DIR` of src/actors/persistence/store-dir.ts). */
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
    lockFile: join(dataDir, 'rae-sched.lock'),
    backupDir: join(dataDir, 'backups'),
    logDir,
    logFile: join(logDir, 'daemon.log'),
    store: join(dataDir, 'store'),
  };
}
