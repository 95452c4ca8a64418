/**
 * One watched PATH's subscription and its life: subscribe with a deadline, notice when it dies
 * (a watcher error, the watched directory deleted, a subscribe that never answers), retry with the
 * runtime's one backoff, and on re-subscribing deliver what changed meanwhile from the last
 * snapshot (@parcel/watcher `writeSnapshot` / `getEventsSince`).
 *
 * Native watcher calls may hang (a network file system): every call is raced against a real-time
 * deadline — a virtual clock does not move while a native call hangs, so a deadline on it could
 * never pass — and a late answer is still taken (or undone) when it comes.
 */
import * as fs from 'node:fs/promises';
import * as parcel from '@parcel/watcher';
import type { Logger } from '../../model';
import { ValidationError } from '../../errors';
import { backoffDelay, type BackoffOptions } from '../../runtime/backoff';
import type { Clock, TimerHandle } from '../../runtime/clock';
import { LATE, withDeadline } from '../../runtime/deadline';
import { resolveWatchTarget, type Subscribe, type WatchSubscription, type WatchTarget } from './watch-path';

/** A watcher event as @parcel/watcher gives it. */
export interface RawEvent {
  path: string;
  type: string;
}

/** Snapshot calls (the shape of @parcel/watcher's `writeSnapshot` / `getEventsSince`). */
export interface Snapshots {
  write(dir: string, file: string): Promise<unknown>;
  since(dir: string, file: string): Promise<RawEvent[]>;
}

/** The real snapshots. */
export const parcelSnapshots: Snapshots = {
  write: (dir, file) => parcel.writeSnapshot(dir, file),
  since: (dir, file) => parcel.getEventsSince(dir, file),
};

/** Retry of a dead watch: 1 s, doubling, capped at 1 min, reset after 1 min alive. */
export const WATCH_RETRY: BackoffOptions = { minMs: 1000, maxMs: 60_000, randomFactor: 0.2, resetAfterMs: 60_000 };

/** Longest a native subscribe (or snapshot) call may take before the watch counts as dead. @default 5000 */
export const DEFAULT_SUBSCRIBE_TIMEOUT_MS = 5000;

/** Options of a {@link TargetWatch}. */
export interface TargetWatchOptions {
  clock: Clock;
  logger?: Logger | undefined;
  /** The PATH as the job gives it. */
  path: string;
  subscribe: Subscribe;
  /** Null: no catch-up after a re-subscribe (tests, or no data directory). */
  snapshots: Snapshots | null;
  /** Where the snapshot of a watched directory (its real path) is kept; null: nowhere. */
  snapshotFile: ((realBase: string) => string) | null;
  subscribeTimeoutMs: number;
  retry: BackoffOptions;
  random?: () => number;
  /** Changes seen (live, or caught up after a re-subscribe), with paths as the user wrote them. */
  onEvents(target: WatchTarget, events: RawEvent[]): void;
  /** The watch died (detail) or came back (null). */
  onState(dead: string | null): void;
}

/** Waits on native watcher calls run in the background: they must not keep the process alive. */
const BACKGROUND = { unref: true } as const;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One PATH's subscription. */
export class TargetWatch {
  readonly #o: TargetWatchOptions;
  #sub: WatchSubscription | null = null;
  /** Base directory (real path) subscribed now or last. */
  #base: string | null = null;
  /** Each subscription attempt's number: callbacks of older ones are ignored. */
  #gen = 0;
  #dead: string | null = null;
  #failures = 0;
  #aliveSince = 0;
  #retry: TimerHandle | null = null;
  #snapshotting = false;
  #closed = false;

  constructor(opts: TargetWatchOptions) {
    this.#o = opts;
  }

  /** Why the watch is dead now, or null when it is alive. */
  get dead(): string | null {
    return this.#dead;
  }

  /** Consecutive failures (retries made since the watch last stayed alive). */
  get failures(): number {
    return this.#failures;
  }

  /**
   * First subscription. `strict`: a watcher error is thrown (ValidationError, field `watch`) — the
   * job is refused at add. Otherwise (a stored job at start-up, a restart) the watch is marked dead
   * and retried. A subscribe that does not answer within the deadline never throws: the watch is
   * dead until it answers. `catchUp`: deliver what changed since a snapshot left by an earlier
   * watch of the same job and directory (the hub restarted, the daemon restarted).
   */
  async start(strict: boolean, catchUp = false): Promise<void> {
    try {
      await this.#subscribe(catchUp);
    } catch (err) {
      if (strict) {
        if (err instanceof ValidationError) throw err;
        throw new ValidationError(`watch: cannot watch '${this.#o.path}': ${messageOf(err)}`, 'watch', { cause: err });
      }
      this.#die(`cannot watch: ${messageOf(err)}`);
    }
  }

  /** Records the tree as it is now, so a later re-subscribe delivers only what changed after. */
  snapshot(): void {
    const { snapshots, snapshotFile } = this.#o;
    const base = this.#base;
    if (snapshots === null || snapshotFile === null || base === null || this.#snapshotting || this.#closed) return;
    this.#snapshotting = true;
    void withDeadline(snapshots.write(base, snapshotFile(base)), this.#o.subscribeTimeoutMs, BACKGROUND).then(
      (r) => { if (r === LATE) this.#o.logger?.warn({ path: this.#o.path }, 'watch snapshot did not answer in time'); },
      (err: unknown) => this.#o.logger?.warn({ err: messageOf(err), path: this.#o.path }, 'watch snapshot failed'),
    ).finally(() => { this.#snapshotting = false; });
  }

  /** Unsubscribes and stops retrying; `forget`: removes its snapshot too (the job no longer watches). Safe to call twice. */
  async close(forget = false): Promise<void> {
    this.#closed = true;
    this.#gen++;
    if (this.#retry !== null) this.#o.clock.clearTimeout(this.#retry);
    this.#retry = null;
    const sub = this.#sub;
    this.#sub = null;
    if (sub !== null) {
      const r = await withDeadline(sub.unsubscribe(), this.#o.subscribeTimeoutMs, BACKGROUND).catch((err: unknown) => {
        this.#o.logger?.warn({ err: messageOf(err) }, 'file watch unsubscribe failed');
        return null;
      });
      if (r === LATE) this.#o.logger?.warn({ path: this.#o.path }, 'file watch unsubscribe did not answer in time');
    }
    if (forget && this.#o.snapshotFile !== null && this.#base !== null) {
      await fs.rm(this.#o.snapshotFile(this.#base), { force: true }).catch(() => undefined);
    }
  }

  async #subscribe(catchUp: boolean): Promise<void> {
    const target = await resolveWatchTarget(this.#o.path);
    // Event paths come back under the directory's real path; map them to the one the user wrote
    // (e.g. macOS's /tmp -> /private/tmp) so the filter sees what it was built from.
    const real = await fs.realpath(target.base);
    const toGiven = real === target.base ? (p: string) => p
      : (p: string) => (p === real || p.startsWith(real + '/') ? target.base + p.slice(real.length) : p);
    const gen = ++this.#gen;
    const pending = this.#o.subscribe(real, (err, events) => {
      if (gen !== this.#gen || this.#closed) return;
      if (err) {
        this.#o.logger?.warn({ err: messageOf(err), path: this.#o.path }, 'file watch error');
        this.#die(`watcher error: ${messageOf(err)}`);
        return;
      }
      this.#o.onEvents(target, events.map((e) => ({ path: toGiven(e.path), type: e.type })));
      // The watched directory itself is gone: its inotify watch went with it, so nothing more
      // would ever be reported. Re-subscribe (to the nearest existing ancestor, filtered).
      if (events.some((e) => e.type === 'delete' && e.path === real)) this.#die(`watched directory '${target.base}' was deleted`);
    });
    const r = await withDeadline(pending, this.#o.subscribeTimeoutMs, BACKGROUND);
    if (r === LATE) {
      // Take the late answer when it comes (or undo it if it is no longer wanted).
      pending.then(
        (sub) => {
          if (gen !== this.#gen || this.#closed) void sub.unsubscribe().catch(() => undefined);
          else this.#alive(sub, real);
        },
        (err: unknown) => { if (gen === this.#gen && !this.#closed) this.#die(`cannot watch: ${messageOf(err)}`); },
      );
      this.#dead = `the watcher's subscribe did not answer within ${this.#o.subscribeTimeoutMs} ms`;
      this.#o.onState(this.#dead);
      return;
    }
    if (this.#closed) {
      void r.unsubscribe().catch(() => undefined);
      return;
    }
    // Changes caught up are not yet delivered (they wait in the job's debounce): the snapshot is
    // written after their fire (JobWatch), not now, or a crash before that fire would lose them.
    const caught = catchUp ? await this.#catchUp(target, real, toGiven) : 0;
    this.#alive(r, real, caught === 0);
  }

  /** Delivers what changed since the last snapshot of the same directory; how many changes. */
  async #catchUp(target: WatchTarget, real: string, toGiven: (p: string) => string): Promise<number> {
    const { snapshots, snapshotFile } = this.#o;
    if (snapshots === null || snapshotFile === null) return 0;
    const file = snapshotFile(real);
    if (!(await fs.stat(file).then(() => true, () => false))) return 0;
    try {
      const r = await withDeadline(snapshots.since(real, file), this.#o.subscribeTimeoutMs, BACKGROUND);
      if (r === LATE) throw new Error(`getEventsSince did not answer within ${this.#o.subscribeTimeoutMs} ms`);
      if (r.length > 0) this.#o.onEvents(target, r.map((e) => ({ path: toGiven(e.path), type: e.type })));
      return r.length;
    } catch (err) {
      this.#o.logger?.warn({ err: messageOf(err), path: this.#o.path }, 'changes since the last watch snapshot are unknown');
      return 0;
    }
  }

  #alive(sub: WatchSubscription, real: string, snapshot = true): void {
    this.#sub = sub;
    this.#base = real;
    this.#aliveSince = this.#o.clock.monotonic();
    if (snapshot) this.snapshot();
    if (this.#dead !== null) {
      this.#dead = null;
      this.#o.onState(null);
    }
  }

  /** Marks the watch dead and retries it after the backoff. */
  #die(detail: string): void {
    if (this.#closed) return;
    this.#gen++;
    const sub = this.#sub;
    this.#sub = null;
    if (sub !== null) void withDeadline(sub.unsubscribe(), this.#o.subscribeTimeoutMs, BACKGROUND).catch(() => undefined);
    if (this.#aliveSince > 0 && this.#o.clock.monotonic() - this.#aliveSince >= this.#o.retry.resetAfterMs) this.#failures = 0;
    this.#aliveSince = 0;
    this.#dead = detail;
    this.#o.onState(detail);
    if (this.#retry !== null) return;
    const delay = backoffDelay(this.#failures++, this.#o.retry, this.#o.random);
    this.#retry = this.#o.clock.setTimeout(() => {
      this.#retry = null;
      this.#subscribe(true).catch((err: unknown) => this.#die(`cannot watch: ${messageOf(err)}`));
    }, delay);
  }
}
