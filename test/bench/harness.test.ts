/**
 * The benchmark harness's pure parts: statistics, slot accounting, argument parsing, and the table,
 * markdown and SVG it writes. (The benchmark itself is `npm run bench`, never part of the tests.)
 */
import { UsageError, parseArgs } from '../../bench/harness/args';
import { renderChart, xOf } from '../../bench/harness/chart';
import { fmt, fmtRatio, fmtSummary, markdownTable, renderMarkdown, renderText, type ResultsDocument } from '../../bench/harness/report';
import { Results } from '../../bench/harness/runner';
import { median, percentiles, ratio, summarize } from '../../bench/harness/stats';
import { rssSampler, rssSplit } from '../../bench/harness/measure';
import type { MeasurementSpec } from '../../bench/harness/types';
import { SlotTally, nextWholeSecond } from '../../bench/workloads/w3-slots';
import { WORKLOADS } from '../../bench/workloads';
import { w3argv } from '../../bench/workloads/w3-argv';

const IDS = ['W1', 'W2', 'W3', 'W4', 'W5', 'W6'];

describe('stats', () => {
  it('nearest-rank percentiles', () => {
    const p = percentiles(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect(p).toMatchObject({ n: 100, p50: 50, p90: 90, p99: 99, max: 100, mean: 50.5 });
    expect(percentiles([7])).toMatchObject({ p50: 7, p99: 7, max: 7 });
    expect(percentiles([1, 2, 3, 4]).p50).toBe(2);
    expect(percentiles([]).n).toBe(0);
    expect(percentiles([]).p99).toBeNaN();
  });

  it('median, spread and ratio', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(summarize([10, 12, 8, NaN])).toEqual({ n: 3, median: 10, min: 8, max: 12, spread: 0.4 });
    expect(summarize([NaN])).toBeNull();
    expect(summarize([0, 0])).toMatchObject({ spread: 0 });
    expect(ratio(1, 4)).toBe(0.25);
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(null, 2)).toBeNull();
  });
});

describe('SlotTally (W3 accounting)', () => {
  it('counts slots with a run, lateness, missing slots and duplicates over a window of whole seconds', () => {
    const t0 = 1_000_000;
    const tally = new SlotTally(2, t0, t0 + 3000);
    tally.fire(0, t0 + 5);            // slot t0, 5 ms late
    tally.fire(0, t0 + 1000 - 10);    // 10 ms early: still slot t0+1000 (early tolerance 20 ms)
    tally.fire(0, t0 + 1000 + 3);     // second fire of the same slot
    tally.fire(1, t0 + 2000 + 40);
    tally.fire(1, t0 - 1000 + 1);     // before the window
    tally.fireAt(1, t0, t0 + 700);    // scheduler said which slot: 700 ms late
    const r = tally.report();
    expect(r).toMatchObject({ expected: 6, ran: 4, missing: 2, duplicates: 1, outside: 1 });
    expect(r.lateness.max).toBe(700);
    expect(r.lateness.n).toBe(4);
  });

  it('interval jobs count from their own phase', () => {
    const t0 = 2_000_000;
    const tally = new SlotTally(1, t0, t0 + 2000, Float64Array.of(300));
    tally.fire(0, t0 + 300 + 12);
    tally.fire(0, t0 + 1300 + 1);
    expect(tally.report()).toMatchObject({ ran: 2, missing: 0 });
    expect(tally.report().lateness.max).toBe(12);
  });

  it('refuses a window that is not whole seconds; finds the next whole second', () => {
    expect(() => new SlotTally(1, 0, 1500)).toThrow(RangeError);
    expect(nextWholeSecond(10_400, 2000)).toBe(13_000);
    expect(nextWholeSecond(10_000, 0)).toBe(10_000);
  });
});

describe('parseArgs', () => {
  it('defaults, flags and --only in both spellings', () => {
    expect(parseArgs([], IDS)).toEqual({ quick: false, only: null, json: false, reps: null, help: false });
    expect(parseArgs(['--quick', '--json', '--only', 'w3,W1'], IDS)).toMatchObject({ quick: true, json: true, only: ['W1', 'W3'] });
    expect(parseArgs(['--only=W6', '--reps', '3'], IDS)).toMatchObject({ only: ['W6'], reps: 3 });
  });

  it('--only W3-argv runs the argv case alone: ids are matched whole, and the harness has it', () => {
    const ids = WORKLOADS.map((w) => w.id);
    expect(ids).toEqual(expect.arrayContaining(['W3', 'W3-ARGV']));
    expect(parseArgs(['--only', 'W3-argv'], ids)).toMatchObject({ only: ['W3-ARGV'] });
    expect(parseArgs(['--only', 'w3'], ids)).toMatchObject({ only: ['W3'] });
  });

  it.each([
    [['--fast'], "unknown option '--fast'"],
    [['--only'], '--only needs a value'],
    [['--only', 'W9'], 'unknown workload W9'],
    [['--reps', '0'], "expected an integer from 1 to 50, got '0'"],
    [['--reps', '--quick'], '--reps needs a value'],
  ])('%j is a usage error: %s', (argv, message) => {
    expect(() => parseArgs(argv, IDS)).toThrow(UsageError);
    expect(() => parseArgs(argv, IDS)).toThrow(message);
  });
});

describe('Results', () => {
  const spec: MeasurementSpec = { id: 'W9.x', label: 'x', role: 'rae', file: '/x.js', fn: 'f', args: null, timeoutMs: 1 };

  it('summarises every metric over the samples and keeps failures', () => {
    const r = new Results();
    const m = r.of(spec);
    m.samples.push({ metrics: { rate: 10, finished: 5, target: 10 }, notes: ['a'] }, { metrics: { rate: 30, finished: 10, target: 10 }, notes: ['a'] });
    m.errors.push('child exited with 1');
    r.finish();
    expect(r.m('W9.x', 'rate')).toBe(20);
    expect(r.s('W9.x', 'rate')).toMatchObject({ n: 2, min: 10, max: 30, spread: 1 });
    expect(r.get('W9.x')?.notes).toEqual(['a']);
    expect(r.m('W9.none', 'rate')).toBeNull();
    expect(r.budgetNote('W9.x')).toBe('reached 5 of 10 within its time budget in 1 of 2 repetitions (the rate is over what it reached)');
  });
});

function doc(): ResultsDocument {
  return {
    benchmark: 'rae-scheduler',
    info: {
      mode: 'quick', workloads: ['W1'], complete: false, date: '2026-12-01T09:00:00.000Z', durationMs: 95_000, node: 'v20.20.2',
      platform: 'linux', cpus: 2, cpuModel: 'Test CPU', memTotalMb: 24576, loadavgStart: [1, 2, 3], loadavgEnd: [2, 2, 2], commit: 'abcdef0123456789', reps: null,
    },
    rows: [{ workload: 'W1', what: 'jobs/s | vs Piscina', rae: '12 jobs/s', beside: '10,000 jobs/s', ratio: 0.0012, goal: '≥ 0.7x', met: false, note: 'isolation: process' }],
    headline: [{ label: 'W1 <ratio>', value: 0.0012, goal: 0.7, met: false }],
    measurements: [{ id: 'W1.rae', label: 'rae', role: 'rae', args: null, samples: [{ metrics: { jobsPerSec: 12 } }], errors: ['boom'], summary: { jobsPerSec: { n: 1, median: 12, min: 12, max: 12, spread: 0 } }, notes: [] }],
  };
}

describe('report', () => {
  it('formats numbers, ratios and summaries as people read them', () => {
    expect(fmt(12345.6)).toBe('12,346');
    expect(fmt(123.4)).toBe('123');
    expect(fmt(12.34)).toBe('12.3');
    expect(fmt(1.234)).toBe('1.23');
    expect(fmt(0.000234)).toBe('0.00023');
    expect(fmt(0)).toBe('0');
    expect(fmt(null)).toBe('—');
    expect(fmt(NaN)).toBe('—');
    expect(fmtRatio(0.5)).toBe('0.5x');
    expect(fmtRatio(null)).toBe('—');
    expect(fmtSummary({ n: 5, median: 200, min: 180, max: 220, spread: 0.2 }, 'runs/s')).toBe('200 runs/s ±10%');
    expect(fmtSummary({ n: 1, median: 200, min: 200, max: 200, spread: 0 }, 'MB')).toBe('200 MB');
    expect(fmtSummary(undefined)).toBe('failed');
  });

  it('markdown: machine line, the table with escaped pipes, notes, every measurement with its errors', () => {
    const text = renderMarkdown(doc());
    expect(text).toContain('`npm run bench -- --quick` (only W1)');
    expect(text).toContain('2 × Test CPU, 24 GB RAM');
    expect(text).toContain('load average (1 / 5 / 15 min) 1.00 / 2.00 / 3.00 at the start');
    expect(text).toContain('| W1 | jobs/s \\| vs Piscina | 12 jobs/s | 10,000 jobs/s | 0.0012x | ≥ 0.7x | NOT met |');
    expect(text).toContain('- **W1 jobs/s \\| vs Piscina**: isolation: process');
    expect(text).toContain('| W1.rae | rae | rae | 1/2 | jobsPerSec 12 | error: boom |');
    expect(markdownTable(['a'], [['x|y']])).toBe('| a |\n| --- |\n| x\\|y |');
  });

  it('terminal table lines up and lists the notes', () => {
    const text = renderText(doc());
    expect(text.split('\n')[0]).toMatch(/^workload\s+measurement\s+rae-scheduler/);
    expect(text).toContain('NOT met');
    expect(text).toContain('notes:\n  W1 jobs/s | vs Piscina: isolation: process');
  });
});

describe('chart', () => {
  it('one bar per headline on a log axis, goal marked, labels escaped', () => {
    const svg = renderChart([
      { label: 'W1 <ratio>', value: 0.0012, goal: 0.7, met: false },
      { label: 'W5 & more', value: 2, goal: null, met: null },
      { label: 'W2', value: null, goal: 0.85, met: false },
    ], 'run of 2026-12-01');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('W1 &lt;ratio&gt;');
    expect(svg).toContain('W5 &amp; more');
    expect(svg).toContain('0.0012x');
    expect(svg).toContain('no figure (see the table)');
    expect(svg.match(/stroke-dasharray/g)).toHaveLength(3); // two goals + the legend
    expect(svg).toContain('fill="#c0392b"');   // not met
    expect(svg).toContain('fill="#8c8c8c"');   // no goal
    expect(xOf(1)).toBeGreaterThan(xOf(0.1));
    expect(xOf(1e-9)).toBe(xOf(1e-4));          // clamped to the axis
  });
});

describe('W3-ARGV evaluation', () => {
  const results = (rae: Record<string, number>): Results => {
    const r = new Results();
    const spec = (id: string): MeasurementSpec => ({ id, label: id, role: 'rae', file: 'x', fn: 'x', args: null, timeoutMs: 1 });
    const full = { expected: 6000, ran: 6000, missing: 0, skipped: 0, missed: 0, failed: 0, p50: 40, p99: 300, max: 350, procP50: 60, procP99: 400 };
    r.of(spec('W3.rae.argv')).samples.push({ metrics: { ...full, ...rae } });
    r.of(spec('W3.spawner.argv')).samples.push({ metrics: { ...full, p99: 200 } });
    r.finish();
    return r;
  };

  it('is met only when every slot ran: none skipped, missed or without a run', () => {
    expect(w3argv.evaluate(results({}), 'full').rows[0]).toMatchObject({ met: true });
    expect(w3argv.evaluate(results({}), 'full').rows[1]).toMatchObject({ ratio: 2 });
    const misses: Array<Record<string, number>> = [{ skipped: 3, ran: 5997, missing: 3 }, { missed: 1, ran: 5999, missing: 1 }, { missing: 2, ran: 5998 }];
    for (const miss of misses) {
      const e = w3argv.evaluate(results(miss), 'full');
      expect(e.rows[0]).toMatchObject({ met: false });
      expect(e.headline[0]).toMatchObject({ met: false, goal: 1 });
      expect(e.headline[0]!.value).toBeLessThan(1);
    }
  });
});


describe('RSS split (W3 notes: anonymous vs the store\'s mapped pages)', () => {
  const linux = process.platform === 'linux' ? it : it.skip;
  linux('reads both parts from /proc, and they add up to no more than the RSS', () => {
    const s = rssSplit();
    expect(s.rssAnon).toBeGreaterThan(0);
    expect(s.rssFile).toBeGreaterThan(0);
    // (RssShmem is the third part; the RSS is read after the split, so it can only have grown.)
    expect(s.rssAnon! + s.rssFile!).toBeLessThanOrEqual(process.memoryUsage.rss() + 4 * 1048576);
  });

  linux('the sampler keeps each part\'s peak', () => {
    const sampler = rssSampler(1000);
    const kept = Buffer.alloc(32 * 1048576, 1); // anonymous memory touched before the last sample
    sampler.stop();
    const { anon, file } = sampler.split();
    expect(anon).toBeGreaterThanOrEqual(32 * 1048576);
    expect(file).toBeGreaterThan(0);
    expect(kept[0]).toBe(1);
  });
});
