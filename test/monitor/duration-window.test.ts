import fc from 'fast-check';
import { DurationWindow } from '../../src/actors/monitor/duration-window';
import { LabelCap } from '../../src/actors/monitor/label-cap';

describe('DurationWindow', () => {
  it('gives nearest-rank percentiles over 1..100', () => {
    const w = new DurationWindow(1000);
    for (let i = 100; i >= 1; i--) w.record(i);
    expect(w.summary()).toEqual({ p50: 50, p90: 90, p99: 99, max: 100 });
    expect(w.percentile(100)).toBe(100);
    expect(w.percentile(1)).toBe(1);
  });

  it('is empty-safe and ignores impossible durations', () => {
    const w = new DurationWindow();
    expect(w.summary()).toEqual({ p50: null, p90: null, p99: null, max: null });
    w.record(-5);
    w.record(NaN);
    expect(w.count).toBe(0);
  });

  it('keeps only the newest `capacity` durations for percentiles, but the all-time max', () => {
    const w = new DurationWindow(10);
    w.record(1_000_000);
    for (let i = 0; i < 10; i++) w.record(5);
    expect(w.summary()).toEqual({ p50: 5, p90: 5, p99: 5, max: 1_000_000 });
    expect(w.count).toBe(11);
  });

  it('matches a sort of the last window for random inputs', () => {
    fc.assert(fc.property(fc.array(fc.nat({ max: 10_000 }), { minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 100 }), (xs, cap, p) => {
      const w = new DurationWindow(cap);
      xs.forEach((x) => w.record(x));
      const last = xs.slice(-cap).sort((a, b) => a - b);
      expect(w.percentile(p)).toBe(last[Math.max(1, Math.ceil((p / 100) * last.length)) - 1]);
      expect(w.summary().max).toBe(Math.max(...xs));
    }));
  });

  it('rejects a bad capacity', () => {
    expect(() => new DurationWindow(0)).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'durationWindow' }));
  });
});

describe('LabelCap', () => {
  it('keeps the first N distinct values and folds the rest into _other', () => {
    const cap = new LabelCap(2);
    expect(['a', 'b', 'a', 'c', 'd', 'b'].map((v) => cap.label(v))).toEqual(['a', 'b', 'a', '_other', '_other', 'b']);
    expect(cap.overflowed).toBe(2);
  });
});
