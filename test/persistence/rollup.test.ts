import fc from 'fast-check';
import { addRun, bucketOf, countRun, emptyRollup, percentilesOf, runsOf } from '../../src/actors/persistence/rollup';
import type { Run } from '../../src/model/run';

const run = (status: Run['status'], durationMs: number | null, finishedAt = '2026-01-01T00:00:00.000Z'): Run => ({
  id: 'run_x', jobId: 'job_x', attempt: 1, trigger: 'manual', status, exitCode: null, signal: null,
  scheduledAt: finishedAt, startedAt: finishedAt, finishedAt, durationMs, peakMemoryBytes: null, error: null, output: '',
});

/** Nearest-rank percentile, the exact value the histogram approximates. */
function exact(sorted: number[], p: number): number {
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}

describe('run rollup', () => {
  it('counts by status, keeps skipped runs out of durations and the success rate', () => {
    let r = emptyRollup();
    r = addRun(r, run('succeeded', 10));
    r = addRun(r, run('failed', 30, '2026-01-02T00:00:00.000Z'));
    r = addRun(r, run('skipped', null));
    r = addRun(r, run('succeeded', 20));
    expect(runsOf(r.counts)).toEqual({
      total: 4, succeeded: 2, failed: 1, timeout: 0, killed: 0, interrupted: 0, skipped: 1, successRate: 2 / 3,
    });
    expect(r.durations).toMatchObject({ n: 3, sumMs: 60, maxMs: 30 });
    expect(r.lastFinishedAt).toBe('2026-01-02T00:00:00.000Z');
    expect(percentilesOf(r).max).toBe(30);
  });

  it('counts in place (a batch owns its record) exactly as addRun copies', () => {
    const runs = [run('succeeded', 10), run('failed', 30, '2026-01-02T00:00:00.000Z'), run('skipped', null), run('succeeded', 0.2)];
    const copied = runs.reduce(addRun, emptyRollup());
    const first = addRun(emptyRollup(), runs[0]!);
    const snapshot = structuredClone(first);
    addRun(first, runs[1]!);
    expect(first).toEqual(snapshot); // addRun leaves its input alone
    const inPlace = emptyRollup();
    for (const r of runs) countRun(inPlace, r);
    expect(inPlace).toEqual(copied);
  });

  it('has no percentiles before the first duration', () => {
    expect(percentilesOf(addRun(emptyRollup(), run('skipped', null)))).toEqual({ p50: null, p90: null, p99: null, max: null });
  });

  it('reports every percentile within 4.5% of the exact nearest-rank value, and max exactly', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 10_000_000 }), { minLength: 1, maxLength: 300 }), (ms) => {
      const r = ms.reduce((acc, d) => addRun(acc, run('succeeded', d)), emptyRollup());
      const sorted = [...ms].sort((a, b) => a - b);
      const p = percentilesOf(r);
      for (const [q, got] of [[50, p.p50], [90, p.p90], [99, p.p99]] as const) {
        const want = exact(sorted, q);
        expect(Math.abs(got! - want) / want).toBeLessThanOrEqual(0.045);
      }
      expect(p.max).toBe(sorted[sorted.length - 1]);
    }));
  });

  it('keeps a bounded number of buckets whatever the history', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(365 * 86_400_000)).toBeLessThan(300);
    let r = emptyRollup();
    for (let ms = 0; ms < 365 * 86_400_000; ms = ms * 1.01 + 1) r = addRun(r, run('succeeded', ms));
    expect(Object.keys(r.durations.buckets).length).toBeLessThan(300);
  });
});
