/**
 * The daemon's structured log: JSON lines to `<dataDir>/logs/daemon.log` and to stderr, at info.
 *
 * The file copy never takes the daemon down: a write that fails (ENOSPC on a full disk, EIO, a
 * removed directory) is caught, the line goes to stderr instead (when stderr does not already get
 * every line), and one notice says so; every later line tries the file again, so logging resumes
 * by itself once space returns. pino's own file destination would emit the error as an unhandled
 * 'error' event and crash the process (issue 9 item 5).
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';

/** A pino destination on a file that falls back to stderr while the file cannot be written. */
export class ResilientFileDestination {
  readonly #path: string;
  readonly #stderrHasCopy: boolean;
  #fd: number | null = null;
  /** The error code of the current failure streak, or null while the file works. */
  #failing: string | null = null;

  constructor(path: string, stderrHasCopy: boolean) {
    this.#path = path;
    this.#stderrHasCopy = stderrHasCopy;
  }

  /** Whether the last write to the file failed. */
  get failing(): string | null {
    return this.#failing;
  }

  /** pino calls this with one serialised line. Never throws. */
  write(line: string): boolean {
    try {
      if (this.#fd === null) {
        mkdirSync(dirname(this.#path), { recursive: true, mode: 0o700 });
        this.#fd = openSync(this.#path, 'a', 0o600);
      }
      writeSync(this.#fd, line);
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
        // EBADF, ESTALE, a deleted directory ...: reopen on the next line.
        try {
          closeSync(this.#fd);
        } catch {
          // already unusable
        }
        this.#fd = null;
      }
      if (!this.#stderrHasCopy) stderr(line);
    }
    return true;
  }
}

function stderr(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // Nowhere left to write: dropping a log line must not stop the scheduler.
  }
}

/** Creates the daemon's logger. */
export function createDaemonLogger(logFile: string, toStderr: boolean): pino.Logger {
  // Synchronous destinations: the last lines before exit (shutdown, errors) must not be lost.
  const streams: pino.StreamEntry[] = [{ level: 'info', stream: new ResilientFileDestination(logFile, toStderr) }];
  if (toStderr) streams.push({ level: 'info', stream: { write: (line: string) => stderr(line) } });
  return pino({ level: 'info', base: { pid: process.pid, name: 'rae-sched' } }, pino.multistream(streams));
}
