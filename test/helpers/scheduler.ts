/** Shared helpers of the scheduler integration tests: temp data dirs and waiting on events. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { filter, firstValueFrom, take, toArray, timeout, type Observable } from 'rxjs';
import type { SchedulerEvent } from '../../src/model/events';
import type { Run } from '../../src/model/run';

/** A fresh temp directory (remove with {@link removeDir}). */
export function tempDir(prefix = 'rae-sched-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Collects every finished run from now on; `next(n)` resolves with the first n (bounded by a
 * generous real-time deadline so a broken scheduler fails the test instead of hanging it).
 */
export class RunCollector {
  readonly runs: Run[] = [];
  #waiters: Array<{ n: number; resolve: (r: Run[]) => void }> = [];
  readonly #sub;

  constructor(events$: Observable<SchedulerEvent>) {
    this.#sub = events$.subscribe((e) => {
      if (e.type !== 'run.finished') return;
      this.runs.push(e.run);
      this.#waiters = this.#waiters.filter((w) => {
        if (this.runs.length < w.n) return true;
        w.resolve(this.runs.slice(0, w.n));
        return false;
      });
    });
  }

  /** Resolves once `n` runs have finished in all. */
  wait(n: number, deadlineMs = 20_000): Promise<Run[]> {
    if (this.runs.length >= n) return Promise.resolve(this.runs.slice(0, n));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`only ${this.runs.length} of ${n} runs finished in ${deadlineMs}ms`)), deadlineMs);
      this.#waiters.push({ n, resolve: (r) => { clearTimeout(t); resolve(r); } });
    });
  }

  stop(): void {
    this.#sub.unsubscribe();
  }
}

/** The next `n` events matching `pred`. */
export function nextEvents<T extends SchedulerEvent>(events$: Observable<SchedulerEvent>,
  pred: (e: SchedulerEvent) => e is T, n = 1, deadlineMs = 20_000): Promise<T[]> {
  return firstValueFrom(events$.pipe(filter(pred), take(n), toArray(), timeout(deadlineMs)));
}
