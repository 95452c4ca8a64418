/**
 * Retry and backoff policy: pure functions, no timers. The executor asks whether a finished run is
 * retried and after how long; the retry itself is scheduled through the queue, never by sleeping.
 */
import { ValidationError } from '../../errors';
import { backoffDelay } from '../../runtime/backoff';
import type { RunOutcome } from './types';

/** The retry backoff: first retry after the job's `backoffMs`, doubling, capped at 1 hour, up to 20 % shorter at random. */
export const RETRY_BACKOFF = { maxMs: 3_600_000, randomFactor: 0.2 } as const;

/**
 * Delay before retry number `attempt` (1 = the first retry) of a job whose `retry.backoffMs` is
 * `backoffMs`: `min(1 h, backoffMs · 2^(attempt−1)) · (1 − 0.2 · random())`, rounded to whole ms —
 * the one backoff of src/runtime/backoff.ts (jitter only shortens a delay).
 * @param random source of [0, 1) numbers; inject one in tests. @default Math.random
 * @throws ValidationError naming the bad argument.
 * @example retryDelay(3, 1000) // ≈ 4000 ms, between 3200 and 4000
 */
export function retryDelay(attempt: number, backoffMs: number, random: () => number = Math.random): number {
  if (!(Number.isInteger(attempt) && attempt >= 1)) throw new ValidationError(`attempt: must be an integer >= 1 (got ${attempt})`, 'attempt');
  if (!(Number.isFinite(backoffMs) && backoffMs >= 0)) {
    throw new ValidationError(`retry.backoffMs: must be a number >= 0 (got ${backoffMs})`, 'retry.backoffMs');
  }
  return Math.round(backoffDelay(attempt - 1, { ...RETRY_BACKOFF, minMs: backoffMs }, random));
}

/** Statuses that are retried. */
export const RETRIED_STATUSES: readonly RunOutcome[] = ['failed', 'timeout'];

/**
 * Whether a run that ended with `status` on attempt `attempt` (1 = first) gets another attempt.
 *
 * Retried: `failed` and `timeout` — transient by nature. Not retried: `succeeded`; `killed`, which
 * covers memory/CPU limit breaches (the next attempt would most likely breach again and load the
 * machine once more) and deliberate kills (replace, manual cancel) that a retry would defeat; and
 * `interrupted`, which recovery after restart handles, not this policy.
 */
export function shouldRetry(status: RunOutcome, attempt: number, maxRetries: number): boolean {
  return RETRIED_STATUSES.includes(status) && attempt <= maxRetries;
}
