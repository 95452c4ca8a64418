/**
 * `--watch PATH` triggers on @parcel/watcher (native, recursive, async). @parcel/watcher watches
 * directories only, so every PATH becomes a directory to subscribe to plus a filter on event paths:
 *
 * - a directory: itself; any change below it matches;
 * - a file: its parent directory; only that file matches;
 * - a glob (`/data/*.csv`): the glob's static base directory; paths the glob matches;
 * - a path that does not exist yet: its nearest existing ancestor directory, filtered to the path
 *   (and anything below it), so creating the file or directory fires.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { parcelSubscribe, type Subscribe, type WatchTarget } from './watch-path';
import type { Logger } from '../../api';
import type { Clock } from '../../runtime/clock';
import type { RunEvent } from '../executor/types';
import type { BackoffOptions } from '../../runtime/backoff';
import { Debouncer } from './debounce';
import { DEFAULT_SUBSCRIBE_TIMEOUT_MS, TargetWatch, WATCH_RETRY, type Snapshots } from './target-watch';

export { resolveWatchTarget, parcelSubscribe, type Subscribe, type WatchSubscription, type WatchTarget } from './watch-path';

/** Bound on the entries read from one just-created directory. */
const MAX_SCAN_ENTRIES = 10_000;

/** Quiet time after the last event of a burst before the job fires. */
export const DEFAULT_DEBOUNCE_MS = 500;

/** Most distinct paths one burst hands to its run. */
export const MAX_EVENT_PATHS = 10_000;

/** @parcel/watcher's event types are ours; anything else counts as an update. */
function changeType(t: string): RunEvent['type'] {
  return t === 'create' || t === 'delete' ? t : 'update';
}

/** Options of a {@link JobWatch}. */
export interface JobWatchOptions {
  clock: Clock;
  logger?: Logger | undefined;
  /** Paths (absolute, or relative to the process's working directory). */
  paths: string[];
  /** @default 500 ({@link DEFAULT_DEBOUNCE_MS}) */
  debounceMs?: number | undefined;
  /** Called once per debounced burst of matching changes, with what changed. */
  onFire(reason: string, event: RunEvent): void;
  /** The watch died (detail: which path, why) or came back to life (null). */
  onState?(dead: string | null): void;
  /** @default @parcel/watcher's subscribe */
  subscribe?: Subscribe;
  /** Snapshots for catching up after a re-subscribe; null: none. @default null */
  snapshots?: Snapshots | null;
  /** Snapshot file of the i-th path's watched directory (its real path); absent: none. */
  snapshotFile?(i: number, realBase: string): string;
  /** @default 5000 ({@link DEFAULT_SUBSCRIBE_TIMEOUT_MS}) */
  subscribeTimeoutMs?: number;
  /** @default {@link WATCH_RETRY} */
  retry?: BackoffOptions;
  random?: () => number;
}

/** The file-system watches of one job: one {@link TargetWatch} per path, their filters and one debounce. */
export class JobWatch {
  readonly #o: JobWatchOptions;
  readonly #debounce: Debouncer;
  readonly #targets: TargetWatch[];
  /** The current burst: each distinct path (in first-seen order) and its latest change type. */
  #burst = new Map<string, RunEvent['type']>();
  #firstOfBurst: { path: string; type: RunEvent['type'] } | null = null;
  #closed = false;
  #dead: string | null = null;

  constructor(opts: JobWatchOptions) {
    this.#o = opts;
    this.#debounce = new Debouncer({
      clock: opts.clock,
      quietMs: opts.debounceMs ?? DEFAULT_DEBOUNCE_MS,
      onSettled: (first, count) => {
        const head = this.#firstOfBurst ?? { path: first, type: 'update' as const };
        const event: RunEvent = { type: head.type, path: head.path, paths: [...this.#burst.keys()] };
        this.#burst = new Map();
        this.#firstOfBurst = null;
        if (this.#closed) return;
        opts.onFire(count > 1 ? `watch: ${first} changed (${count} events)` : `watch: ${first} changed`, event);
        // What was delivered is not delivered again after a re-subscribe.
        for (const t of this.#targets) t.snapshot();
      },
    });
    this.#targets = opts.paths.map((p, i) => new TargetWatch({
      clock: opts.clock, logger: opts.logger, path: p,
      subscribe: opts.subscribe ?? parcelSubscribe,
      snapshots: opts.snapshots ?? null, snapshotFile: opts.snapshotFile ? (base: string) => opts.snapshotFile!(i, base) : null,
      subscribeTimeoutMs: opts.subscribeTimeoutMs ?? DEFAULT_SUBSCRIBE_TIMEOUT_MS,
      retry: opts.retry ?? WATCH_RETRY, ...(opts.random ? { random: opts.random } : {}),
      onEvents: (target, events) => this.#onEvents(target, events),
      onState: () => this.#stateChanged(),
    }));
  }

  /** Number of watched paths. */
  get size(): number {
    return this.#o.paths.length;
  }

  /** Why (one of) its paths is not watched now, or null when every one is. */
  get dead(): string | null {
    return this.#dead;
  }

  /**
   * Subscribes every path. `strict` (a job being added): all or nothing — if one fails, those
   * already made are undone. Otherwise a path that cannot be watched is marked dead and retried.
   * @throws ValidationError (field `watch`) naming the path that cannot be watched (strict only).
   */
  async start(strict = true, catchUp = false): Promise<void> {
    try {
      for (const t of this.#targets) await t.start(strict, catchUp);
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  #stateChanged(): void {
    const dead = this.#targets.find((t) => t.dead !== null);
    const detail = dead === undefined ? null : `${dead.dead}`;
    if (detail === this.#dead) return;
    this.#dead = detail;
    if (!this.#closed) this.#o.onState?.(detail);
  }

  #onEvents(target: WatchTarget, events: Array<{ path: string; type: string }>): void {
    if (this.#closed) return;
    for (const ev of events) {
      if (target.matches(ev.path)) this.#push(ev.path, changeType(ev.type));
      else if (ev.type === 'create' && target.mayContain(ev.path)) void this.#scanCreated(target, ev.path);
    }
  }

  /** Reports matching paths already inside a just-created directory (see `mayContain`). */
  async #scanCreated(target: WatchTarget, dir: string): Promise<void> {
    let entries: string[];
    try {
      entries = await fs.readdir(dir, { recursive: true });
    } catch {
      return; // not a directory, or gone again
    }
    if (this.#closed) return;
    for (const rel of entries.slice(0, MAX_SCAN_ENTRIES)) {
      const p = path.join(dir, rel);
      if (target.matches(p)) this.#push(p, 'create');
    }
  }

  #push(p: string, type: RunEvent['type']): void {
    this.#firstOfBurst ??= { path: p, type };
    // Bounded: a burst over a huge tree keeps its first paths (the count still says how many events).
    if (this.#burst.has(p) || this.#burst.size < MAX_EVENT_PATHS) this.#burst.set(p, type);
    this.#debounce.push(p);
  }

  /** Unsubscribes everything and drops a waiting fire; `forget`: removes the snapshots too. Safe to call twice. */
  async close(forget = false): Promise<void> {
    this.#closed = true;
    this.#debounce.cancel();
    await Promise.all(this.#targets.map((t) => t.close(forget)));
  }
}
