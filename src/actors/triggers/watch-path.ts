/**
 * Where a `--watch PATH` is subscribed: @parcel/watcher watches directories only, so every PATH
 * becomes a directory to subscribe to plus a filter on event paths (see watch.ts).
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as parcel from '@parcel/watcher';
import picomatch from 'picomatch';
import { ValidationError } from '../../errors';

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

