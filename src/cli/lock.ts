/**
 * The daemon's exclusive hold on a data directory: an OS lock (`flock(2)`, exclusive, non-blocking)
 * on `<dataDir>/rae-sched.lock`, taken before anything else starts.
 *
 * Why flock: the kernel grants it atomically to exactly one open file, and drops it by itself when
 * the holder dies in any way (`kill -9` included) — so there is no stale lock to judge, and nothing
 * is ever inferred from a pid or a command line. Node has no flock call; the lock is taken by
 * util-linux's `flock(1)` on OUR open file descriptor, passed to it as fd 3: a flock belongs to the
 * open file description, which the child shares, so the lock stays with us after `flock(1)` exits
 * and lives exactly as long as our descriptor (Node opens files close-on-exec, so jobs spawned
 * later do not inherit it). docs/operations.md ("The lock") and docs/dependencies.md say more.
 *
 * The pid file (`rae-sched.pid`) is only information for people and tools; it is written after the
 * lock is held and never decides anything.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { ConflictError, SchedulerError } from '../errors';

/** Exit code we ask `flock(1)` to use when the lock is held elsewhere. */
const BUSY = 75;

/** Result of one non-blocking attempt on an open lock file. */
type Attempt = 'held' | 'busy';

/** Tries to take an exclusive flock on `fd` without waiting. */
function tryFlock(fd: number, lockPath: string): Attempt {
  const r = spawnSync('flock', ['--nonblock', '--exclusive', '--conflict-exit-code', String(BUSY), '3'], {
    stdio: ['ignore', 'ignore', 'pipe', fd],
    timeout: 30_000,
  });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new SchedulerError(
      'INTERNAL',
      code === 'ENOENT'
        ? `cannot lock ${lockPath}: the flock(1) program (util-linux) is not installed`
        : `cannot lock ${lockPath}: ${r.error.message}`,
    );
  }
  if (r.status === 0) return 'held';
  if (r.status === BUSY) return 'busy';
  throw new SchedulerError('INTERNAL', `cannot lock ${lockPath}: flock(1) failed: ${r.stderr.toString().trim() || `exit ${r.status}`}`);
}

/** The pid recorded in a pid file, or null. */
export function readPidFile(pidFile: string): number | null {
  try {
    const n = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isSafeInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** Who holds the lock of a data directory, as far as a probe can tell. */
export interface LockProbe {
  /** True when a live process holds the lock (a daemon runs). */
  held: boolean;
  /** The pid file's pid (informational; may be stale when `held` is false). */
  pid: number | null;
}

/** A held data-directory lock. */
export class DataDirLock {
  readonly #fd: number;
  readonly #pidFile: string;
  #released = false;

  private constructor(fd: number, pidFile: string) {
    this.#fd = fd;
    this.#pidFile = pidFile;
  }

  /**
   * Takes the lock, then records our pid. Touches nothing else: a refused daemon leaves every file
   * of the running one as it was.
   * @throws ConflictError when another process holds the lock (a daemon runs on this directory).
   */
  static acquire(lockPath: string, pidFile: string): DataDirLock {
    // O_RDWR|O_CREAT without truncation: the file's content is never used, only its lock.
    const fd = openSync(lockPath, 'a', 0o600);
    let attempt: Attempt;
    try {
      attempt = tryFlock(fd, lockPath);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    if (attempt === 'busy') {
      closeSync(fd);
      const pid = readPidFile(pidFile);
      throw new ConflictError(
        `a daemon${pid === null ? '' : ` (pid ${pid})`} already runs on this data directory (it holds the lock ${lockPath})`,
      );
    }
    // Write then rename: a reader never sees a half-written pid.
    const tmp = `${pidFile}.${process.pid}.tmp`;
    writeFileSync(tmp, `${process.pid}\n`, { mode: 0o600 });
    renameSync(tmp, pidFile);
    return new DataDirLock(fd, pidFile);
  }

  /** Whether a daemon holds the lock of `lockPath` right now (takes and drops it when free). */
  static probe(lockPath: string, pidFile: string): LockProbe {
    const pid = readPidFile(pidFile);
    let fd: number;
    try {
      fd = openSync(lockPath, 'r');
    } catch {
      return { held: false, pid }; // no lock file: no daemon ever ran here
    }
    try {
      return { held: tryFlock(fd, lockPath) === 'busy', pid };
    } finally {
      closeSync(fd); // drops the lock if the probe took it
    }
  }

  /** Removes the pid file (if it is still ours) and drops the lock. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (readPidFile(this.#pidFile) === process.pid) {
      try {
        unlinkSync(this.#pidFile);
      } catch {
        // already gone
      }
    }
    closeSync(this.#fd);
  }
}
