/**
 * Firing precision with the real clock: K jobs on `every 1s` (command `true`) for ~10 s; lateness =
 * run.startedAt − run.scheduledAt, read from the `run.started` events on `s.events$`.
 *
 * Baseline measured in the same run, in its own fresh process: K plain `setTimeout` timers with the
 * same phases (one per job, re-armed each second for the same duration) — the floor any Node
 * scheduler stands on. The ratio compares percentiles (scheduler / setTimeout).
 *
 * maxConcurrentJobs = K, so lateness is the scheduler's own, not a run waiting for a busy slot.
 *
 * Run: `npx tsc -p . && node dist/bench/fire-latency.js [--counts 1,50,200] [--seconds 10]`
 * Writes bench/results/fire-latency.json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Table from 'cli-table3';
import { filter } from 'rxjs';
import { createScheduler } from '../src/scheduler';
import { childMain, percentiles, runChild, writeResult, type Percentiles } from './lib';

interface Args { k: number; seconds: number }

interface Result {
  k: number;
  /** Lateness percentiles, ms. */
  lateness: Percentiles;
  /** Fires expected over the window (K × seconds) and seen. */
  expected: number;
  seen: number;
  /** Slots not run (skipped by overlap, missed ...), by outcome. */
  notRun: Record<string, number>;
}

async function scheduler(a: Args): Promise<Result> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'rae-bench-fire-'));
  const s = await createScheduler({ dataDir, maxConcurrentJobs: Math.max(4, a.k) });
  try {
    const lateness: number[] = [];
    const notRun: Record<string, number> = {};
    let measuring = false;
    const subs = [
      s.events$.pipe(filter((e) => e.type === 'run.started')).subscribe((e) => {
        if (!measuring || e.type !== 'run.started' || e.run.startedAt === null) return;
        lateness.push(Date.parse(e.run.startedAt) - Date.parse(e.run.scheduledAt));
      }),
      s.events$.pipe(filter((e) => e.type === 'slot.recorded')).subscribe((e) => {
        if (measuring && e.type === 'slot.recorded' && e.slot.outcome !== 'fired') notRun[e.slot.outcome] = (notRun[e.slot.outcome] ?? 0) + 1;
      }),
    ];
    for (let i = 0; i < a.k; i++) await s.addJob({ name: `tick-${i}`, schedule: 'every 1s', command: 'true' });
    // One second of warm-up: every job has fired once (threads, pool and JIT are warm).
    await new Promise((r) => setTimeout(r, 1500));
    measuring = true;
    await new Promise((r) => setTimeout(r, a.seconds * 1000));
    measuring = false;
    for (const sub of subs) sub.unsubscribe();
    return { k: a.k, lateness: percentiles(lateness), expected: a.k * a.seconds, seen: lateness.length, notRun };
  } finally {
    await s.shutdown({ graceMs: 2000 });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** K timers with spread phases, each re-armed every second, like K interval jobs. */
async function timeouts(a: Args): Promise<Result> {
  const lateness: number[] = [];
  const start = Date.now() + 1500;
  const end = start + a.seconds * 1000;
  await new Promise<void>((done) => {
    let live = a.k;
    for (let i = 0; i < a.k; i++) {
      let target = start + Math.floor((i * 1000) / a.k);
      const tick = (): void => {
        // Date.now like run.startedAt/scheduledAt: the same ms resolution as the scheduler's numbers.
        lateness.push(Date.now() - target);
        target += 1000;
        if (target < end) setTimeout(tick, target - Date.now());
        else if (--live === 0) done();
      };
      setTimeout(tick, target - Date.now());
    }
  });
  return { k: a.k, lateness: percentiles(lateness), expected: a.k * a.seconds, seen: lateness.length, notRun: {} };
}

async function main(): Promise<void> {
  const arg = (name: string, def: string): string => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1]! : def;
  };
  const counts = arg('--counts', '1,50,200').split(',').map(Number);
  const seconds = Number(arg('--seconds', '10'));
  const rows: Array<{ k: number; scheduler: Result; setTimeout: Result; ratio: Record<string, number> }> = [];
  const table = new Table({ style: { head: [], border: [] }, head: ['jobs', 'what', 'fires', 'not run', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'] });
  for (const k of counts) {
    const sch = await runChild<Result>(__filename, 'scheduler', { k, seconds });
    const base = await runChild<Result>(__filename, 'timeouts', { k, seconds });
    // A floor of 1 ms: setTimeout's p50 is often 0 or 1 ms at ms resolution, and x/0 says nothing.
    const r = (q: keyof Percentiles): number => +(sch.lateness[q] / Math.max(1, base.lateness[q])).toFixed(1);
    const ratio = { p50: r('p50'), p90: r('p90'), p99: r('p99'), max: r('max') };
    rows.push({ k, scheduler: sch, setTimeout: base, ratio });
    for (const [what, x] of [['scheduler', sch], ['setTimeout', base]] as const) {
      table.push([k, what, `${x.seen}/${x.expected}`, Object.entries(x.notRun).map(([o, c]) => `${c} ${o}`).join(', ') || '0', x.lateness.p50, x.lateness.p90, x.lateness.p99, x.lateness.max]);
    }
    table.push([k, 'ratio', '', '', `${ratio.p50}x`, `${ratio.p90}x`, `${ratio.p99}x`, `${ratio.max}x`]);
  }
  console.log(table.toString());
  console.log('ratio = scheduler / setTimeout (denominator floored at 1 ms)');
  console.log(`written ${writeResult('fire-latency', { seconds, rows })}`);
}

if (!childMain({ scheduler, timeouts })) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
