/**
 * Arms ONE clock timer for the timeline's earliest entry, however many jobs there are.
 *
 * Waits are capped (default 30 s) and recomputed on every wake: `setTimeout` cannot wait more than
 * 2^31-1 ms, and a long wait drifts across suspend. Every wake also compares how far the wall clock
 * moved with how far the monotonic clock moved; a difference beyond a threshold is a wall-clock
 * jump (NTP step, manual change, suspend/resume on Linux where CLOCK_MONOTONIC stops while
 * suspended), reported through `onClockJump` BEFORE due entries are handed over, so the scheduler
 * can recompute the timeline first: no burst of duplicate fires, no silent stall.
 */
import { ValidationError } from '../../errors';
import { MAX_TIMER_MS, type Clock, type TimerHandle } from '../../runtime/clock';
import type { Timeline, TimelineEntry } from './timeline';

/** Options of {@link TimelineTimer}. */
export interface TimelineTimerOptions {
  clock: Clock;
  timeline: Timeline;
  /** Receives the entries that fell due (already removed from the timeline), earliest first. */
  onDue(due: TimelineEntry[]): void;
  /**
   * Called when the wall clock moved `deltaMs` more (positive: forward) than monotonic time since
   * the last wake. May return a promise: due entries are handed over only after it settles, and
   * only those still due then (the handler is expected to have recomputed the timeline).
   */
  onClockJump?(deltaMs: number): void | Promise<void>;
  /**
   * Receives an exception thrown by `onDue`/`onClockJump` (the timer stays armed either way).
   * @default rethrown in a microtask (an uncaught exception), after the timer has re-armed
   */
  onError?(err: unknown): void;
  /** Longest single wait, ms (at most 2^31-1). Also bounds how late a clock jump is noticed. @default 30000 */
  maxWaitMs?: number;
  /** Wall-vs-monotonic difference (ms) that counts as a clock jump. @default 5000 */
  jumpThresholdMs?: number;
  /** Most entries handed over per `onDue` call; the rest follow on the next turn. @default 1000 */
  maxBatch?: number;
  /**
   * Hand entries over this many ms BEFORE they are due (their `at` is then still ahead): the
   * scheduler commits a slot's fire ahead of its time and dispatches it at the time itself
   * (docs/architecture.md "Fires committed ahead"). @default 0
   */
  leadMs?: number;
}

function positive(name: string, v: number | undefined, dflt: number, max = Infinity): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) {
    throw new ValidationError(`${name} must be a number > 0${max < Infinity ? ` and <= ${max}` : ''}, got ${String(v)}`, name);
  }
  return v;
}

function lead(v: number | undefined): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_TIMER_MS) {
    throw new ValidationError(`leadMs must be a number >= 0, got ${String(v)}`, 'leadMs');
  }
  return v;
}

/**
 * Drives a {@link Timeline} from a {@link Clock}.
 *
 * @example
 * const timer = new TimelineTimer({ clock, timeline, onDue: (due) => enqueue(due), onClockJump: () => recompute() });
 * timer.start();
 * timeline.upsert(job.id, nextFire);
 * timer.reschedule();
 */
export class TimelineTimer {
  readonly #clock: Clock;
  readonly #timeline: Timeline;
  readonly #onDue: (due: TimelineEntry[]) => void;
  readonly #onClockJump: ((deltaMs: number) => void | Promise<void>) | undefined;
  readonly #onError: ((err: unknown) => void) | undefined;
  readonly #maxWaitMs: number;
  readonly #jumpThresholdMs: number;
  readonly #maxBatch: number;
  #leadMs: number;

  #running = false;
  /** True while a (possibly async) onClockJump is in flight: nothing is armed or handed over. */
  #busy = false;
  #handle: TimerHandle | null = null;
  /** Fire time the armed timer was computed for (NaN when idle). */
  #armedFor = NaN;
  #lastWall = 0;
  #lastMono = 0;

  constructor(opts: TimelineTimerOptions) {
    this.#clock = opts.clock;
    this.#timeline = opts.timeline;
    this.#onDue = opts.onDue;
    this.#onClockJump = opts.onClockJump;
    this.#onError = opts.onError;
    this.#maxWaitMs = positive('maxWaitMs', opts.maxWaitMs, 30_000, MAX_TIMER_MS);
    this.#jumpThresholdMs = positive('jumpThresholdMs', opts.jumpThresholdMs, 5_000);
    this.#maxBatch = Math.floor(positive('maxBatch', opts.maxBatch, 1000));
    this.#leadMs = lead(opts.leadMs);
  }

  /** Changes the hand-over lead (see {@link TimelineTimerOptions.leadMs}); re-arms when it changed. */
  setLead(ms: number): void {
    const v = lead(ms);
    if (v === this.#leadMs) return;
    this.#leadMs = v;
    if (this.#running && !this.#busy && this.#handle !== null) this.#arm();
  }

  /** Starts watching the timeline (idempotent). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#arm();
  }

  /** Disarms; no more callbacks until `start` (idempotent). */
  stop(): void {
    this.#running = false;
    this.#disarm();
  }

  /** Call after changing the timeline (re-arms if the earliest entry changed). O(1) when nothing changed. */
  reschedule(): void {
    if (!this.#running || this.#busy) return;
    const earliest = this.#timeline.peekAt();
    if (earliest === this.#armedFor) return;
    this.#arm();
  }

  #disarm(): void {
    if (this.#handle !== null) this.#clock.clearTimeout(this.#handle);
    this.#handle = null;
    this.#armedFor = NaN;
  }

  #arm(): void {
    const wasIdle = this.#handle === null;
    this.#disarm();
    const earliest = this.#timeline.peekAt();
    if (earliest === undefined) return;
    if (wasIdle) {
      // Nothing was waiting, so a jump since the last wake affected no entry (new entries were
      // computed from the current clock): start measuring afresh.
      this.#lastWall = this.#clock.now();
      this.#lastMono = this.#clock.monotonic();
    }
    const wait = Math.min(this.#maxWaitMs, Math.max(0, earliest - this.#leadMs - this.#clock.now()));
    this.#armedFor = earliest;
    this.#handle = this.#clock.setTimeout(() => this.#wake(), wait);
  }

  #wake(): void {
    this.#handle = null;
    this.#armedFor = NaN;
    if (!this.#running) return;
    const wall = this.#clock.now();
    const mono = this.#clock.monotonic();
    const drift = (wall - this.#lastWall) - (mono - this.#lastMono);
    this.#lastWall = wall;
    this.#lastMono = mono;
    if (Math.abs(drift) > this.#jumpThresholdMs && this.#onClockJump !== undefined) {
      let pending: void | Promise<void> = undefined;
      try {
        pending = this.#onClockJump(drift);
      } catch (err) {
        this.#fail(err);
      }
      if (pending instanceof Promise) {
        this.#busy = true;
        pending.then(
          () => this.#afterJump(),
          (err: unknown) => {
            this.#afterJump();
            this.#fail(err);
          },
        );
        return;
      }
    }
    this.#deliver();
  }

  #afterJump(): void {
    this.#busy = false;
    // The handler may have taken a while: re-baseline so its own duration is not read as a jump.
    this.#lastWall = this.#clock.now();
    this.#lastMono = this.#clock.monotonic();
    if (this.#running) this.#deliver();
  }

  #deliver(): void {
    const due = this.#timeline.popDue(this.#clock.now() + this.#leadMs, this.#maxBatch);
    try {
      if (due.length > 0) this.#onDue(due);
    } catch (err) {
      this.#fail(err);
    } finally {
      if (this.#running && this.#handle === null) this.#arm();
    }
  }

  #fail(err: unknown): void {
    if (this.#onError !== undefined) {
      this.#onError(err);
      return;
    }
    // Surface it as an uncaught exception, but only after this wake has re-armed the timer.
    queueMicrotask(() => {
      throw err;
    });
  }
}
