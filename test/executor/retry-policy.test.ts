import { exponentialRetry, retryDelay, shouldRetry } from '../../src/actors/executor/retry-policy';
import { SchedulerError } from '../../src/errors';

const noJitter = () => 0;

describe('retryDelay', () => {
  it('starts at baseMs and grows by the factor each retry', () => {
    expect([1, 2, 3, 4].map((a) => retryDelay(a, { baseMs: 1000, jitter: 0 }))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3].map((a) => retryDelay(a, { baseMs: 100, factor: 3, jitter: 0 }))).toEqual([100, 300, 900]);
  });

  it('caps the delay at maxMs, also for huge attempt numbers', () => {
    expect(retryDelay(5, { baseMs: 1000, maxMs: 5000, jitter: 0 })).toBe(5000);
    expect(retryDelay(10_000, { baseMs: 1000, maxMs: 60_000 }, noJitter)).toBe(60_000);
    expect(retryDelay(3, { baseMs: 1000 }, noJitter)).toBe(4000); // default cap (1 h) not reached
    expect(retryDelay(40, { baseMs: 1000 }, noJitter)).toBe(3_600_000);
  });

  it('jitter only shortens the delay, by at most the jitter fraction', () => {
    const opts = { baseMs: 1000, jitter: 0.2 };
    expect(retryDelay(2, opts, () => 0)).toBe(2000);
    expect(retryDelay(2, opts, () => 0.5)).toBe(1800);
    expect(retryDelay(2, opts, () => 0.999999)).toBe(1600);
    // At the cap, jitter still spreads retries out instead of firing them in lockstep.
    expect(retryDelay(20, { baseMs: 1000, maxMs: 10_000, jitter: 0.5 }, () => 0.5)).toBe(7500);
  });

  it('stays within [nominal·(1−jitter), nominal] for any random value', () => {
    for (let i = 0; i <= 100; i++) {
      const r = i / 100;
      const d = retryDelay(3, { baseMs: 500, jitter: 0.3 }, () => r);
      expect(d).toBeGreaterThanOrEqual(1400);
      expect(d).toBeLessThanOrEqual(2000);
    }
  });

  it.each([
    [0, { baseMs: 1000 }, 'attempt'],
    [1.5, { baseMs: 1000 }, 'attempt'],
    [1, { baseMs: -1 }, 'backoff.baseMs'],
    [1, { baseMs: 1000, factor: 0.5 }, 'backoff.factor'],
    [1, { baseMs: 1000, jitter: 1.5 }, 'backoff.jitter'],
    [1, { baseMs: 1000, maxMs: Number.NaN }, 'backoff.maxMs'],
  ])('rejects attempt %p with %p, naming %s', (attempt, opts, field) => {
    let caught: unknown;
    try {
      retryDelay(attempt, opts);
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

describe('exponentialRetry', () => {
  it('combines the decision and the delay from a job spec', () => {
    const policy = exponentialRetry({ maxRetries: 2, backoffMs: 1000 }, { jitter: 0 });
    expect(policy.next('failed', 1)).toBe(1000);
    expect(policy.next('timeout', 2)).toBe(2000);
    expect(policy.next('failed', 3)).toBeNull();
    expect(policy.next('succeeded', 1)).toBeNull();
  });
});
