import { ValidationError } from '../errors';

/**
 * The project's one exponential backoff, used for supervisor restarts, store-commit retries and
 * job retries (`--backoff`, through src/actors/executor/retry-policy.ts). Step n (0 = first)
 * waits `min(maxMs, minMs · 2^n) · (1 − random · randomFactor)`.
 *
 * Jitter only ever SHORTENS a delay (by up to `randomFactor`): a delay is never later than its
 * nominal value nor above `maxMs`, yet many waiters capped at the same delay still spread out
 * instead of retrying in lockstep. (docs/jobs.md "Retries and backoff" promises this for `--backoff`.)
 */
export interface BackoffOptions {
  /** First delay. 0 disables backoff (OTP behaviour: restart at once). @default 0 */
  minMs: number;
  /** Cap of the exponential part. @default 30000 */
  maxMs: number;
  /** Jitter: up to this fraction (0..1) is taken off at random. @default 0.2 */
  randomFactor: number;
  /** A child that has run this long since its last (re)start is "quiet": its counter resets. @default 60000 */
  resetAfterMs: number;
}

/** Defaults: no backoff. */
export const NO_BACKOFF: BackoffOptions = { minMs: 0, maxMs: 30_000, randomFactor: 0.2, resetAfterMs: 60_000 };

/**
 * Fills and checks backoff options once, at the boundary.
 * @throws ValidationError naming the bad option (`backoff.maxMs` ...).
 */
export function backoffOptions(partial: Partial<BackoffOptions> = {}): BackoffOptions {
  const o = { ...NO_BACKOFF, ...partial };
  for (const k of ['minMs', 'maxMs', 'randomFactor', 'resetAfterMs'] as const) {
    if (!Number.isFinite(o[k]) || o[k] < 0) {
      throw new ValidationError(`backoff.${k} must be a finite number >= 0, got ${String(o[k])}`, `backoff.${k}`);
    }
  }
  if (o.randomFactor > 1) throw new ValidationError(`backoff.randomFactor must be between 0 and 1, got ${o.randomFactor}`, 'backoff.randomFactor');
  if (o.maxMs < o.minMs) throw new ValidationError(`backoff.maxMs (${o.maxMs}) must be >= backoff.minMs (${o.minMs})`, 'backoff.maxMs');
  return o;
}

/**
 * Delay of step `n` (n >= 0: the n-th consecutive restart, retry number n + 1). `random` returns a
 * number in [0, 1); values outside are clamped, so the delay stays in [nominal · (1 − randomFactor), nominal].
 *
 * @example
 * backoffDelay(3, { minMs: 100, maxMs: 10_000, randomFactor: 0.2, resetAfterMs: 60_000 }, () => 0) // 800
 */
export function backoffDelay(n: number, o: Omit<BackoffOptions, 'resetAfterMs'>, random: () => number = Math.random): number {
  if (o.minMs === 0) return 0;
  // 2^n overflows to Infinity for large n; min() caps it, so no special case is needed.
  const nominal = Math.min(o.maxMs, o.minMs * 2 ** n);
  const r = Math.min(Math.max(random(), 0), 1);
  return nominal * (1 - r * o.randomFactor);
}
