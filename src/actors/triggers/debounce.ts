/**
 * Collapses a burst of file-system events into one fire. An editor's save, a `cp -r` or a log
 * rotation arrives as many events within milliseconds; the job should run once, after it settles.
 */
import type { Clock, TimerHandle } from '../../runtime/clock';

/** Options of a {@link Debouncer}. */
export interface DebouncerOptions {
  clock: Clock;
  /** Quiet time after the last event before firing. */
  quietMs: number;
  /**
   * Longest a burst may postpone its fire, so a file written without pause (a growing log) still
   * fires now and then instead of never.
   * @default 10 × quietMs (at least 1 s)
   */
  maxWaitMs?: number;
  /** Called once per burst with its first event's label and how many events it held. */
  onSettled(first: string, count: number): void;
}

/** A trailing-edge debounce with a cap, timed by the injected clock. */
export class Debouncer {
  readonly #o: Required<DebouncerOptions>;
  #timer: TimerHandle | null = null;
  #burstStart = 0;
  #first = '';
  #count = 0;

  constructor(opts: DebouncerOptions) {
    this.#o = { ...opts, maxWaitMs: opts.maxWaitMs ?? Math.max(1000, opts.quietMs * 10) };
  }

  /** Records one event; the fire comes `quietMs` after the last one (or at the burst's cap). */
  push(label: string): void {
    const now = this.#o.clock.monotonic();
    if (this.#count === 0) {
      this.#burstStart = now;
      this.#first = label;
    }
    this.#count++;
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer);
    const delay = Math.max(0, Math.min(this.#o.quietMs, this.#burstStart + this.#o.maxWaitMs - now));
    this.#timer = this.#o.clock.setTimeout(() => this.#settle(), delay);
  }

  /** True while a burst waits to fire. */
  get pending(): boolean {
    return this.#timer !== null;
  }

  /** Drops a waiting burst without firing. */
  cancel(): void {
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#count = 0;
  }

  #settle(): void {
    const first = this.#first;
    const count = this.#count;
    this.#timer = null;
    this.#count = 0;
    this.#o.onSettled(first, count);
  }
}
