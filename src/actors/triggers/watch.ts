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
import * as parcel from '@parcel/watcher';
import picomatch from 'picomatch';
import { ValidationError } from '../../errors';
import type { Logger } from '../../model';
import type { Clock } from '../../runtime/clock';
import type { RunEvent } from '../executor/types';
import { Debouncer } from './debounce';

/** One watch PATH resolved to the directory to subscribe to and a filter. */
export interface WatchTarget {
  /** The PATH as the job gives it (made absolute). */
  path: string;
  /** The existing directory subscribed to. */
  base: string;
  /** True when a changed path (absolute, under `base`) is one this PATH watches. */
  matches(changed: string): boolean;
  /**
   * True when a directory just created at `created` may already hold matching paths. Files made
   * right after their directory can precede the watcher's watch on it (inotify watches each
   * directory separately), so such a directory is scanned once.
   */
  mayContain(created: string): boolean;
}

/** A live subscription (the shape of @parcel/watcher's). */
export interface WatchSubscription {
  unsubscribe(): Promise<void>;
}
/** Subscribes to every change below a directory (the shape of @parcel/watcher's `subscribe`). */
export type Subscribe = (
  dir: string,
  cb: (err: Error | null, events: Array<{ path: string; type: string }>) => unknown,
) => Promise<WatchSubscription>;

/** The real subscriber. */
export const parcelSubscribe: Subscribe = (dir, cb) => parcel.subscribe(dir, cb);

/** Bound on the entries read from one just-created directory. */
const MAX_SCAN_ENTRIES = 10_000;

/** Quiet time after the last event of a burst before the job fires. */
export const DEFAULT_DEBOUNCE_MS = 500;

async function statKind(p: string): Promise<'dir' | 'file' | 'none'> {
  try {
    return (await fs.stat(p)).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'none';
  }
}

function under(dir: string): (p: string) => boolean {
  const prefix = dir.endsWith(path.sep) ? dir : dir + path.sep;
  return (p) => p === dir || p.startsWith(prefix);
}

/**
 * Resolves a watch PATH to the directory to subscribe to and the filter for its events.
 * @throws ValidationError (field `watch`) when no ancestor but the filesystem root exists: a
 *   recursive watch of `/` would cover the whole machine.
 */
export async function resolveWatchTarget(given: string): Promise<WatchTarget> {
  const abs = path.resolve(given);
  const scan = picomatch.scan(abs);
  if (scan.isGlob) {
    const isMatch = picomatch(abs);
    const base = await existingAncestor(abs, path.resolve(scan.base || path.parse(abs).root));
    return { path: abs, base, matches: isMatch, mayContain: () => true };
  }
  const kind = await statKind(abs);
  // A created path below a watched directory matches by itself; its contents need no scan.
  if (kind === 'dir') return { path: abs, base: abs, matches: under(abs), mayContain: () => false };
  if (kind === 'file') return { path: abs, base: path.dirname(abs), matches: (p) => p === abs, mayContain: () => false };
  const base = await existingAncestor(abs, path.dirname(abs));
  return { path: abs, base, matches: under(abs), mayContain: (d) => abs.startsWith(d + path.sep) };
}

async function existingAncestor(given: string, start: string): Promise<string> {
  let dir = start;
  while ((await statKind(dir)) !== 'dir') {
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  if (dir === path.parse(dir).root) {
    throw new ValidationError(`watch: '${given}' has no existing parent directory below '${dir}' to watch`, 'watch');
  }
  return dir;
}

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
  /** @default @parcel/watcher's subscribe */
  subscribe?: Subscribe;
}

/** The file-system watches of one job: its subscriptions, their filters and one debounce. */
export class JobWatch {
  readonly #o: JobWatchOptions;
  readonly #debounce: Debouncer;
  readonly #subs: WatchSubscription[] = [];
  /** The current burst: each distinct path (in first-seen order) and its latest change type. */
  #burst = new Map<string, RunEvent['type']>();
  #firstOfBurst: { path: string; type: RunEvent['type'] } | null = null;
  #closed = false;

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
      },
    });
  }

  /** Number of watched paths. */
  get size(): number {
    return this.#o.paths.length;
  }

  /**
   * Subscribes every path. All or nothing: if one fails, those already made are undone.
   * @throws ValidationError (field `watch`) naming the path that cannot be watched.
   */
  async start(): Promise<void> {
    const subscribe = this.#o.subscribe ?? parcelSubscribe;
    try {
      for (const p of this.#o.paths) {
        const target = await resolveWatchTarget(p);
        let sub: WatchSubscription;
        try {
          sub = await this.#subscribeTarget(subscribe, target);
        } catch (err) {
          throw new ValidationError(`watch: cannot watch '${p}': ${(err as Error).message}`, 'watch', { cause: err });
        }
        this.#subs.push(sub);
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async #subscribeTarget(subscribe: Subscribe, target: WatchTarget): Promise<WatchSubscription> {
    // Event paths come back under the directory's real path; map them to the one the user wrote
    // (e.g. macOS's /tmp -> /private/tmp) so the filter sees what it was built from.
    const real = await fs.realpath(target.base);
    const toGiven = real === target.base ? (p: string) => p
      : (p: string) => (under(real)(p) ? target.base + p.slice(real.length) : p);
    return subscribe(real, (err, events) => {
      if (this.#closed) return;
      if (err) {
        this.#o.logger?.warn({ err, path: target.path }, 'file watch error');
        return;
      }
      for (const ev of events) {
        const p = toGiven(ev.path);
        if (target.matches(p)) this.#push(p, changeType(ev.type));
        else if (ev.type === 'create' && target.mayContain(p)) void this.#scanCreated(target, p);
      }
    });
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

  /** Unsubscribes everything and drops a waiting fire. Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#debounce.cancel();
    const subs = this.#subs.splice(0);
    const results = await Promise.allSettled(subs.map((s) => s.unsubscribe()));
    for (const r of results) {
      if (r.status === 'rejected') this.#o.logger?.warn({ err: r.reason }, 'file watch unsubscribe failed');
    }
  }
}
