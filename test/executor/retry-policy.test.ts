import { retryDelay, shouldRetry } from '../../src/actors/executor/retry-policy';
import { SchedulerError } from '../../src/errors';

const noJitter = () => 0;

describe('retryDelay', () => {
  it("starts at the job's backoffMs and doubles each retry", () => {
    expect([1, 2, 3, 4].map((a) => retryDelay(a, 1000, noJitter))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3].map((a) => retryDelay(a, 100, noJitter))).toEqual([100, 200, 400]);
  });

  it('caps the delay at one hour, also for huge attempt numbers', () => {
    expect(retryDelay(3, 1000, noJitter)).toBe(4000);
    expect(retryDelay(40, 1000, noJitter)).toBe(3_600_000);
    expect(retryDelay(10_000, 1000, noJitter)).toBe(3_600_000);
    expect(retryDelay(1, 7 * 86_400_000, noJitter)).toBe(3_600_000);
  });

  it('jitter only shortens the delay, by at most 20 %', () => {
    expect(retryDelay(2, 1000, () => 0)).toBe(2000);
    expect(retryDelay(2, 1000, () => 0.5)).toBe(1800);
    expect(retryDelay(2, 1000, () => 0.999999)).toBe(1600);
    // At the cap, jitter still spreads retries out instead of firing them in lockstep.
    expect(retryDelay(40, 1000, () => 0.5)).toBe(3_240_000);
  });

  it('stays within [nominal·0.8, nominal] for any random value', () => {
    for (let i = 0; i <= 100; i++) {
      const r = i / 100;
      const d = retryDelay(3, 500, () => r);
      expect(d).toBeGreaterThanOrEqual(1600);
      expect(d).toBeLessThanOrEqual(2000);
    }
  });

  it('is 0 for a backoff of 0', () => {
    expect(retryDelay(5, 0, () => 0.5)).toBe(0);
  });

  it.each([
    [0, 1000, 'attempt'],
    [1.5, 1000, 'attempt'],
    [1, -1, 'retry.backoffMs'],
    [1, Number.NaN, 'retry.backoffMs'],
  ])('rejects attempt %p with backoff %p, naming %s', (attempt, backoffMs, field) => {
    let caught: unknown;
    try {
      retryDelay(attempt, backoffMs);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SchedulerError);
    expect(caught).toMatchObject({ code: 'VALIDATION', field });
  });
});

describe('shouldRetry', () => {
  it('retries failed and timeout runs while attempts remain', () => {
    expect(shouldRetry('failed', 1, 2)).toBe(true);
    expect(shouldRetry('timeout', 2, 2)).toBe(true);
    expect(shouldRetry('failed', 3, 2)).toBe(false);
    expect(shouldRetry('failed', 1, 0)).toBe(false);
  });

  it('never retries succeeded, killed or interrupted runs', () => {
    for (const status of ['succeeded', 'killed', 'interrupted'] as const) {
      expect(shouldRetry(status, 1, 5)).toBe(false);
    }
  });
});
