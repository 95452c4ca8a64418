/**
 * Retry and backoff policy: pure functions, no timers. The executor asks whether a finished run is
 * retried and after how long; the retry itself is scheduled through the queue, never by sleeping.
 */
import { ValidationError } from '../../errors';
import type { RetryPolicySpec } from '../../model/job';
import type { RunOutcome } from './types';

/** Exponential backoff settings. */
export interface BackoffOptions {
  /** Delay before the first retry, ms. */
  baseMs: number;
  /** Growth per retry. @default 2 */
  factor?: number;
  /** Cap on the nominal delay, ms. @default 3_600_000 (1 hour) */
  maxMs?: number;
  /** Fraction (0..1) by which a delay may be shortened at random, so retries of many jobs spread out. @default 0.2 */
  jitter?: number;
}

const DEFAULT_FACTOR = 2;
const DEFAULT_MAX_MS = 3_600_000;
const DEFAULT_JITTER = 0.2;

function check(ok: boolean, field: string, what: string): void {
  if (!ok) throw new ValidationError(`${field}: ${what}`, field);
}

/**
 * Delay before retry number `attempt` (1 = the first retry):
 * `min(maxMs, baseMs · factor^(attempt−1)) · (1 − jitter · random())`, rounded to whole ms.
 *
 * Jitter only ever shortens the delay, so a delay is never later than its nominal value and never
 * above `maxMs`, yet retries capped at `maxMs` still spread out instead of firing in lockstep.
 * @param random source of [0, 1) numbers; inject one in tests. @default Math.random
 * @throws ValidationError naming the bad option.
 * @example retryDelay(3, { baseMs: 1000 }) // ≈ 4000 ms, between 3200 and 4000
 */
export function retryDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const factor = opts.factor ?? DEFAULT_FACTOR;
  const maxMs = opts.maxMs ?? DEFAULT_MAX_MS;
  const jitter = opts.jitter ?? DEFAULT_JITTER;
  check(Number.isInteger(attempt) && attempt >= 1, 'attempt', `must be an integer >= 1 (got ${attempt})`);
  check(Number.isFinite(opts.baseMs) && opts.baseMs >= 0, 'backoff.baseMs', `must be a number >= 0 (got ${opts.baseMs})`);
  check(Number.isFinite(factor) && factor >= 1, 'backoff.factor', `must be a number >= 1 (got ${factor})`);
  check(Number.isFinite(maxMs) && maxMs >= 0, 'backoff.maxMs', `must be a number >= 0 (got ${maxMs})`);
  check(Number.isFinite(jitter) && jitter >= 0 && jitter <= 1, 'backoff.jitter', `must be between 0 and 1 (got ${jitter})`);
  // Computed in log space so huge attempt numbers saturate at the cap instead of overflowing to NaN.
  const nominal = opts.baseMs === 0 ? 0 : Math.min(maxMs, Math.exp(Math.log(opts.baseMs) + (attempt - 1) * Math.log(factor)));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(nominal * (1 - jitter * r));
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

/** A job's retry policy as one value: what the executor consults after each run. */
export interface RetryPolicy {
  /** The delay before the next attempt, or `null` when the run is not retried. */
  next(status: RunOutcome, attempt: number): number | null;
}

/**
 * The standard policy from a job's `retry` spec: `maxRetries` retries, the first after `backoffMs`,
 * doubling, capped and jittered as {@link retryDelay}.
 */
export function exponentialRetry(spec: RetryPolicySpec, backoff: Omit<BackoffOptions, 'baseMs'> = {}, random?: () => number): RetryPolicy {
  return {
    next: (status, attempt) =>
      shouldRetry(status, attempt, spec.maxRetries) ? retryDelay(attempt, { ...backoff, baseMs: spec.backoffMs }, random) : null,
  };
}
