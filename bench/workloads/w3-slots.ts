/**
 * W3's accounting of per-second slots, the same for rae-scheduler and every peer: which slots of
 * the measured window got a run, how late each run started, which slots got none, which got two.
 * Pure (no timers, no I/O), so it is unit-tested (test/bench/harness.test.ts).
 */
import { percentiles, type Percentiles } from '../harness/stats';

/** What a window's slots came to. */
export interface SlotReport {
  expected: number;
  ran: number;
  /** Slots of the window that got no run (by the end of the grace period). */
  missing: number;
  /** Runs of a slot that already had one. */
  duplicates: number;
  /** Fires outside the window (before it or after it), ignored. */
  outside: number;
  lateness: Percentiles;
}

/**
 * Slots of `n` jobs firing every second over the window [t0, t1) (epoch ms, t1 − t0 a whole number
 * of seconds). Job i's slots are `phase[i] + k·1000`; cron-style peers and rae-scheduler's jobs have
 * phase 0 (whole seconds); interval peers have the phase of their start.
 */
export class SlotTally {
  readonly #n: number;
  readonly #t0: number;
  readonly #seconds: number;
  readonly #phase: Float64Array;
  readonly #claimed: Uint8Array;
  readonly #lateness: number[] = [];
  readonly #earlyMs: number;
  #duplicates = 0;
  #outside = 0;

  /**
   * @param earlyMs a fire this much before a slot still counts for it (timers may round down);
   *   a fire more than 1000 − earlyMs ms late is counted for the NEXT slot — the peers do not say
   *   which slot a fire was for, so this is as precise as their lateness can be read.
   */
  constructor(n: number, t0: number, t1: number, phase?: Float64Array, earlyMs = 20) {
    const seconds = (t1 - t0) / 1000;
    if (!Number.isInteger(seconds) || seconds <= 0) throw new RangeError(`window must be whole seconds, got ${t1 - t0} ms`);
    this.#n = n;
    this.#t0 = t0;
    this.#seconds = seconds;
    this.#phase = phase ?? new Float64Array(n);
    this.#claimed = new Uint8Array(n * seconds);
    this.#earlyMs = earlyMs;
  }

  /** Job `job` fired at `now`; the slot is the one it is nearest after (see `earlyMs`). */
  fire(job: number, now: number): void {
    const p = this.#phase[job]!;
    this.fireAt(job, p + Math.floor((now - p + this.#earlyMs) / 1000) * 1000, now);
  }

  /** Job `job`'s slot `slot` started running at `now` (when the scheduler says which slot it was). */
  fireAt(job: number, slot: number, now: number): void {
    const first = this.#t0 + this.#phase[job]!;
    const k = Math.round((slot - first) / 1000);
    // Interval phases are within one second: a slot at phase p belongs to the window when its
    // second index (slot − p − t0) / 1000 is in [0, seconds).
    if (job < 0 || job >= this.#n || k < 0 || k >= this.#seconds) {
      this.#outside++;
      return;
    }
    const i = job * this.#seconds + k;
    if (this.#claimed[i] === 1) {
      this.#duplicates++;
      return;
    }
    this.#claimed[i] = 1;
    this.#lateness.push(now - slot);
  }

  /** Slots of the window that got a run so far (O(1): progress lines read it while the window runs). */
  get ran(): number {
    return this.#lateness.length;
  }

  /** Slots in the window. */
  get expected(): number {
    return this.#n * this.#seconds;
  }

  report(): SlotReport {
    const ran = this.#lateness.length;
    const expected = this.#n * this.#seconds;
    return { expected, ran, missing: expected - ran, duplicates: this.#duplicates, outside: this.#outside, lateness: percentiles(this.#lateness) };
  }
}

/** First whole second at least `leadMs` after `now`. */
export const nextWholeSecond = (now: number, leadMs: number): number => Math.ceil((now + leadMs) / 1000) * 1000;
