/** Shared helpers of the scheduler integration tests: temp data dirs and waiting on events. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { filter, firstValueFrom, take, toArray, timeout, type Observable } from 'rxjs';
import type { SchedulerEvent } from '../../src/model/events';
import type { Run } from '../../src/model/run';
import { createScheduler, type Scheduler, type SchedulerOptions } from '../../src/index';
import { VirtualClock } from '../../src/testing';

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

/** A scheduler opened by {@link useSchedulers}, with its virtual clock and a run collector. */
export interface OpenedScheduler {
  s: Scheduler;
  clock: VirtualClock;
  runs: RunCollector;
}

/**
 * Per-test data directory and schedulers on virtual clocks, all shut down and removed after each
 * test. `open(at)` starts a scheduler on the same directory (a restart, when called again).
 */
export function useSchedulers(): { dir(): string; open(at: number, opts?: Partial<SchedulerOptions>): Promise<OpenedScheduler> } {
  let dir = '';
  let opened: Scheduler[] = [];
  beforeEach(() => {
    dir = tempDir();
    opened = [];
  });
  afterEach(async () => {
    for (const s of opened) await s.shutdown({ graceMs: 0 });
    removeDir(dir);
  });
  return {
    dir: () => dir,
    async open(at, opts = {}) {
      const clock = new VirtualClock(at);
      const s = await createScheduler({ dataDir: dir, clock, ...opts });
      opened.push(s);
      return { s, clock, runs: new RunCollector(s.events$) };
    },
  };
}

/** What {@link useWatchDirs} gives a test: its directories, and a way to have its schedulers shut down. */
export interface WatchDirs {
  /** The test's data directory. */
  dir(): string;
  /** A directory to watch (its real path: the watcher reports real paths). */
  watched(): string;
  /** Shuts `s` down (no grace) after the test, before the directories are removed; returns it. */
  track<S extends Scheduler>(s: S): S;
}

/** Per-test data and watched directories for the file-watch tests, removed after each test. */
export function useWatchDirs(): WatchDirs {
  let dir = '';
  let watched = '';
  let opened: Scheduler[] = [];
  beforeEach(() => {
    dir = tempDir();
    watched = fs.realpathSync(tempDir('rae-watched-'));
    opened = [];
  });
  afterEach(async () => {
    for (const s of opened) await s.shutdown({ graceMs: 0 });
    removeDir(dir);
    removeDir(watched);
  });
  return { dir: () => dir, watched: () => watched, track: (s) => { opened.push(s); return s; } };
}
