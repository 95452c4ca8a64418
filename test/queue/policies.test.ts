import fc from 'fast-check';
import { explainOverlap } from '../../src/actors/queue/overlap-policy';
import { planCatchUp } from '../../src/actors/queue/catch-up-policy';
import { jitterFor } from '../../src/actors/queue/jitter';
import type { OverlapPolicy } from '../../src/model/job';

describe('overlap policy', () => {
  const cases: Array<[OverlapPolicy, number, number, string]> = [
    ['skip', 0, 0, 'start'], ['skip', 1, 0, 'skip'], ['skip', 0, 1, 'skip'], ['skip', 2, 1, 'skip'],
    ['queue', 0, 0, 'start'], ['queue', 1, 0, 'enqueue'], ['queue', 1, 1, 'skip'], ['queue', 0, 1, 'skip'],
    ['allow', 0, 0, 'start'], ['allow', 3, 2, 'start'],
    ['replace', 0, 0, 'start'], ['replace', 1, 0, 'replace'], ['replace', 0, 1, 'replace'], ['replace', 2, 3, 'replace'],
  ];
  it.each(cases)('%s with %i running, %i queued → %s', (policy, running, queued, expected) => {
    const v = explainOverlap(policy, { running, queued });
    expect(v.decision).toBe(expected);
    // Every decision other than a plain start carries a reason a person can read in `why`.
    if (expected === 'start') expect(v.reason).toBeNull();
    else expect(v.reason).toEqual(expect.stringContaining(`overlap=${policy}`));
  });

  it('rejects an unknown policy and bad counts, naming the field', () => {
    expect(() => explainOverlap('sometimes' as OverlapPolicy, { running: 0, queued: 0 }))
      .toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'overlap' }));
    expect(() => explainOverlap('skip', { running: -1, queued: 0 })).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'running' }));
    expect(() => explainOverlap('skip', { running: 0, queued: 0.5 })).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'queued' }));
  });
});

describe('catch-up policy', () => {
  const slots = [100, 200, 300, 400, 500];
  it('none runs nothing and records every slot missed', () => {
    expect(planCatchUp('none', slots)).toEqual({ run: [], missed: slots });
  });
  it('once runs only the latest slot', () => {
    expect(planCatchUp('once', slots)).toEqual({ run: [500], missed: [100, 200, 300, 400] });
    expect(planCatchUp('once', [])).toEqual({ run: [], missed: [] });
  });
  it('all runs the newest maxAll slots, oldest first, and records the rest missed', () => {
    expect(planCatchUp('all', slots)).toEqual({ run: slots, missed: [] });
    expect(planCatchUp('all', slots, { maxAll: 2 })).toEqual({ run: [400, 500], missed: [100, 200, 300] });
    const week = Array.from({ length: 10_080 }, (_, i) => i * 60_000);
    const plan = planCatchUp('all', week);
    expect(plan.run).toHaveLength(100); // the default cap: no catch-up storm
    expect(plan.run[99]).toBe(week[week.length - 1]);
  });
  it('gives every missed slot exactly one outcome, for every policy', () => {
    fc.assert(fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 1e9 }), { maxLength: 300 }).map((a) => a.sort((x, y) => x - y)),
      fc.constantFrom('none' as const, 'once' as const, 'all' as const),
      fc.integer({ min: 1, max: 50 }),
      (missed, policy, maxAll) => {
        const p = planCatchUp(policy, missed, { maxAll });
        expect([...p.missed, ...p.run]).toEqual(missed); // disjoint, complete, both ascending
        expect(p.run.length).toBeLessThanOrEqual(policy === 'all' ? maxAll : policy === 'once' ? 1 : 0);
      },
    ));
  });
  it('rejects unsorted slots, a bad cap and an unknown policy', () => {
    expect(() => planCatchUp('once', [2, 1])).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'missed' }));
    expect(() => planCatchUp('once', [1, 1])).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'missed' }));
    expect(() => planCatchUp('all', [1], { maxAll: 0 })).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'maxAll' }));
    expect(() => planCatchUp('most' as 'all', [1])).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'catchUp' }));
  });
});

describe('jitter', () => {
  it('is an integer in [0, jitterMs), the same for the same slot', () => {
    fc.assert(fc.property(fc.string(), fc.integer({ min: 0, max: 4e12 }), fc.double({ min: 0, max: 1e7, noNaN: true }), (job, slot, j) => {
      const d = jitterFor(job, slot, j);
      expect(Number.isInteger(d)).toBe(true);
      expect(d).toBeGreaterThanOrEqual(0);
      if (j >= 1) expect(d).toBeLessThan(j);
      else expect(d).toBe(0);
      expect(jitterFor(job, slot, j)).toBe(d);
    }));
  });

  it('spreads consecutive slots over the whole range', () => {
    const buckets = new Array<number>(10).fill(0);
    const N = 10_000;
    for (let i = 0; i < N; i++) buckets[Math.floor(jitterFor('job-1', i * 60_000, 1000) / 100)]!++;
    // Deterministic inputs: these counts never change between runs; a bad hash clumps far past 20%.
    for (const b of buckets) expect(Math.abs(b - N / 10)).toBeLessThan(N / 50);
    expect(jitterFor('job-1', 0, 60_000)).not.toBe(jitterFor('job-2', 0, 60_000));
  });

  it('rejects a negative or non-finite jitter', () => {
    expect(() => jitterFor('a', 0, -1)).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'jitterMs' }));
    expect(() => jitterFor('a', 0, Infinity)).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'jitterMs' }));
  });
});
