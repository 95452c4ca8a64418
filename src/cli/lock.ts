/** The daemon's lock on a data directory: a pid file, with a live check so a stale one is taken over. */
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { ConflictError } from '../errors';

/** True when `pid` is a live process that looks like a rae-sched daemon. */
async function holderAlive(pid: number): Promise<boolean> {
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: alive but someone else's process — still a holder.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // A pid is reused after its process dies: on Linux, check the holder is still a rae-sched.
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('rae-sched');
  } catch {
    return true;
  }
}

/** A held pid-file lock. */
export class PidLock {
  readonly #path: string;

  private constructor(path: string) {
    this.#path = path;
  }

  /**
   * Takes the lock at `path`, taking over a stale one (its process gone).
   * @throws ConflictError when a live daemon holds it.
   */
  static async acquire(path: string): Promise<PidLock> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        // 'wx' creates atomically: of two daemons starting at once, exactly one gets the file.
        await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
        return new PidLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (await holderAlive(holder)) {
        throw new ConflictError(`a daemon (pid ${holder}) already runs on this data directory (lock ${path})`);
      }
      await unlink(path).catch(() => undefined);
    }
    throw new ConflictError(`could not take the lock ${path}: another daemon is starting`);
  }

  /** Removes the pid file if it is still ours. */
  async release(): Promise<void> {
    const holder = Number((await readFile(this.#path, 'utf8').catch(() => '')).trim());
    if (holder === process.pid) await unlink(this.#path).catch(() => undefined);
  }
}
