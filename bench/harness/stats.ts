/** Pure statistics of the harness: latency percentiles and median/spread over repetitions. */
import type { Summary } from './types';

/** Latency summary in milliseconds. */
export interface Percentiles {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * Nearest-rank percentiles of `samples` (the smallest value with at least q of the samples at or
 * below it), rounded to µs. Empty input gives NaN everywhere and n 0.
 * @example percentiles([1, 2, 3, 4]).p50 // 2
 */
export function percentiles(samples: readonly number[]): Percentiles {
  const s = Float64Array.from(samples).sort();
  const at = (q: number): number => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!);
  const r = (v: number): number => Math.round(v * 1000) / 1000;
  let sum = 0;
  for (const v of s) sum += v;
  return { n: s.length, p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), max: r(at(1)), mean: r(s.length === 0 ? NaN : sum / s.length) };
}

/** Median (mean of the two middle values for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median, min, max and relative spread of the finite values in `xs` (null when there are none). */
export function summarize(xs: readonly number[]): Summary | null {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length === 0) return null;
  const m = median(v);
  const min = Math.min(...v);
  const max = Math.max(...v);
  return { n: v.length, median: m, min, max, spread: m === 0 ? (max === min ? 0 : Infinity) : (max - min) / Math.abs(m) };
}

/** `a / b`, or null when either is missing or b is 0. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}
