import { ValidationError } from '../errors';

/**
 * Restart backoff, Akka style: the n-th consecutive restart (n = 0 first) waits
 * `min(maxMs, minMs * 2^n) * (1 + random * randomFactor)`, and the counter resets once the child
 * has run for `resetAfterMs` without failing.
 */
export interface BackoffOptions {
  /** First delay. 0 disables backoff (OTP behaviour: restart at once). @default 0 */
  minMs: number;
  /** Cap of the exponential part. @default 30000 */
  maxMs: number;
  /** Jitter: up to this fraction is added on top. @default 0.2 */
  randomFactor: number;
  /** A child that has run this long since its last (re)start is "quiet": its counter resets. @default 60000 */
  resetAfterMs: number;
}

/** Defaults: no backoff. */
export const NO_BACKOFF: BackoffOptions = { minMs: 0, maxMs: 30_000, randomFactor: 0.2, resetAfterMs: 60_000 };

/** Fills and checks backoff options once, at the boundary. */
export function backoffOptions(partial: Partial<BackoffOptions> = {}): BackoffOptions {
  const o = { ...NO_BACKOFF, ...partial };
  for (const k of ['minMs', 'maxMs', 'randomFactor', 'resetAfterMs'] as const) {
    if (!Number.isFinite(o[k]) || o[k] < 0) {
      throw new ValidationError(`backoff.${k} must be a finite number >= 0, got ${String(o[k])}`, `backoff.${k}`);
    }
  }
  if (o.maxMs < o.minMs) throw new ValidationError(`backoff.maxMs (${o.maxMs}) must be >= backoff.minMs (${o.minMs})`, 'backoff.maxMs');
  return o;
}

/**
 * Delay before the `n`-th consecutive restart (n >= 0). `random` returns a number in [0, 1).
 *
 * @example
 * backoffDelay(3, { minMs: 100, maxMs: 10_000, randomFactor: 0.2, resetAfterMs: 60_000 }, () => 0) // 800
 */
export function backoffDelay(n: number, o: BackoffOptions, random: () => number = Math.random): number {
  if (o.minMs === 0) return 0;
  // 2^n overflows to Infinity for large n; min() caps it, so no special case is needed.
  const base = Math.min(o.maxMs, o.minMs * 2 ** n);
  return base * (1 + random() * o.randomFactor);
}
