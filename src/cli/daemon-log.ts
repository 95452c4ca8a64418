/**
 * The daemon's structured log: JSON lines to `<dataDir>/logs/daemon.log` and to stderr, at info.
 *
 * Buffered: a line per run must not cost the hot path a write syscall, so lines are collected and
 * written in chunks of at least 4 KiB (and at the latest every second, and on `flush()` — at
 * shutdown and at process exit — so the last lines still reach the file).
 *
 * The file copy never takes the daemon down: a write that fails (ENOSPC on a full disk, EIO, a
 * removed directory) is caught, the lines go to stderr instead (when stderr does not already get
 * every line), and one notice says so; every later chunk tries the file again, so logging resumes by
 * itself once space returns. pino's own file destination emits such a failure as an unhandled
 * 'error' event, which crashed the daemon on a full disk (issue 9 item 5).
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';

/** Buffered bytes that trigger a write. */
const CHUNK = 4096;
/** Longest a line waits in the buffer. */
const FLUSH_EVERY_MS = 1000;

/** Writes all of `text` to `fd` (writeSync may write less than asked). */
function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text);
  while (buf.length > 0) {
    const n = writeSync(fd, buf);
    buf = buf.subarray(n);
  }
}

function stderr(text: string): void {
  try {
    writeAll(2, text);
  } catch {
    // Nowhere left to write: dropping a log line must not stop the scheduler.
  }
}

/** A buffered pino destination on a file that falls back to stderr while the file cannot be written. */
export class ResilientFileDestination {
  readonly #path: string;
  readonly #stderrHasCopy: boolean;
  readonly #chunk: number;
  #fd: number | null = null;
  #buffer = '';
  /** The error code of the current failure streak, or null while the file works. */
  #failing: string | null = null;

  /** `chunk`: buffered bytes that trigger a write (0: write every line at once). */
  constructor(path: string, stderrHasCopy: boolean, chunk = 0) {
    this.#path = path;
    this.#stderrHasCopy = stderrHasCopy;
    this.#chunk = chunk;
  }

  /** The error code of the last failed write, or null while the file works. */
  get failing(): string | null {
    return this.#failing;
  }

  /** pino calls this with one serialised line. Never throws. */
  write(line: string): boolean {
    this.#buffer += line;
    if (this.#buffer.length >= this.#chunk) this.flush();
    return true;
  }

  /** Writes out the buffer now. Never throws. */
  flush(): void {
    if (this.#buffer === '') return;
    const text = this.#buffer;
    this.#buffer = '';
    try {
      if (this.#fd === null) {
        mkdirSync(dirname(this.#path), { recursive: true, mode: 0o700 });
        this.#fd = openSync(this.#path, 'a', 0o600);
      }
      writeAll(this.#fd, text);
      if (this.#failing !== null) {
        const was = this.#failing;
        this.#failing = null;
        stderr(`rae-sched: warning: the log file ${this.#path} can be written again (after ${was})\n`);
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      if (this.#failing === null) {
        stderr(`rae-sched: warning: cannot write the log file ${this.#path} (${code}); log lines go to stderr until it can\n`);
      }
      this.#failing = code;
      if (code !== 'ENOSPC' && this.#fd !== null) {
        // EBADF, ESTALE, a deleted directory ...: reopen on the next chunk.
        try {
          closeSync(this.#fd);
        } catch {
          // already unusable
        }
        this.#fd = null;
      }
      if (!this.#stderrHasCopy) stderr(text);
    }
  }
}

/** A buffered stderr destination. */
class StderrDestination {
  #buffer = '';
  write(line: string): boolean {
    this.#buffer += line;
    if (this.#buffer.length >= CHUNK) this.flush();
    return true;
  }
  flush(): void {
    if (this.#buffer === '') return;
    const text = this.#buffer;
    this.#buffer = '';
    stderr(text);
  }
}

/** The daemon's log and how to get its buffered lines out. */
export interface DaemonLog {
  logger: pino.Logger;
  /** Writes out every buffered line now (synchronously). Safe to call at any time, and at exit. */
  flush(): void;
}

/** Creates the daemon's log (see the module doc). */
export function createDaemonLog(logFile: string, toStderr: boolean): DaemonLog {
  const dests: Array<ResilientFileDestination | StderrDestination> = [new ResilientFileDestination(logFile, toStderr, CHUNK)];
  if (toStderr) dests.push(new StderrDestination());
  const logger = pino({ level: 'info', base: { pid: process.pid, name: 'rae-sched' } },
    pino.multistream(dests.map((stream) => ({ level: 'info' as const, stream }))));
  const flush = (): void => {
    for (const d of dests) d.flush();
  };
  setInterval(flush, FLUSH_EVERY_MS).unref();
  process.once('exit', flush);
  return { logger, flush };
}
