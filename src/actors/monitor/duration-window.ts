/**
 * Run durations for `stats()` percentiles in bounded memory: the most recent `capacity` durations
 * in a ring buffer (exact percentiles over that window), plus the exact all-time count and max.
 * A sliding window, not a uniform reservoir: operators want "how long do runs take now", and it
 * keeps the numbers deterministic (no random sampling to make tests or reports wobble).
 */
import { ValidationError } from '../../errors';
import type { DurationPercentiles } from '../../model/health';


/** Bounded window of durations (ms). */
export class DurationWindow {
  readonly #ring: Float64Array;
  #next = 0;
  #filled = 0;
  #count = 0;
  #max: number | null = null;

  /** @param capacity durations kept for percentiles. @default 10000 */
  constructor(capacity = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new ValidationError(`durationWindow must be an integer >= 1, got ${String(capacity)}`, 'durationWindow');
    }
    this.#ring = new Float64Array(capacity);
  }

  /** Durations recorded since creation (not only those in the window). */
  get count(): number {
    return this.#count;
  }

  /** Records one duration; negative or non-finite values are ignored (a clock step mid-run). */
  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.#ring[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#ring.length;
    this.#filled = Math.min(this.#filled + 1, this.#ring.length);
    this.#count++;
    if (this.#max === null || ms > this.#max) this.#max = ms;
  }

  /** Nearest-rank percentile (0 < p <= 100) over the window, or null when empty. */
  percentile(p: number): number | null {
    return this.#pick(this.#sorted(), p);
  }

  /** p50/p90/p99 over the window; max over all time. */
  summary(): DurationPercentiles {
    const s = this.#sorted();
    return { p50: this.#pick(s, 50), p90: this.#pick(s, 90), p99: this.#pick(s, 99), max: this.#max };
  }

  #sorted(): Float64Array {
    return this.#ring.slice(0, this.#filled).sort();
  }

  #pick(sorted: Float64Array, p: number): number | null {
    if (sorted.length === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
    return sorted[Math.min(rank, sorted.length) - 1]!;
  }
}
