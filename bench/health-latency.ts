/**
 * `health`, `stats` and `metrics` latency: idle, and beside a saturated scheduler — (a) 200 runNow
 * waiting in the scheduler's mailbox, (b) a burst of N fires due at the same second (default
 * 10,000 jobs) — measured in the same run, so the ratio saturated/idle is what saturation costs.
 * The goal (issue 8): each answers within 1 s while the scheduler is saturated.
 *
 * Run: `npm run bench:health [-- --jobs 10000]`. Prints a table; writes bench/results/health.json.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createScheduler, type Scheduler } from '../src/index';
import { msSince, percentiles, writeResult } from './lib';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const JOBS = arg('--jobs', 10_000);
const CALLS = ['health', 'stats', 'metrics'] as const;
type Call = typeof CALLS[number];

/**
 * Calls each read in turn every 50 ms until `done()` (at least `min` rounds). A call's latency is
 * measured from when it was DUE (its slot in the 50 ms grid), not from when the event loop got to
 * send it: time the main thread spent blocked before the call counts, as it would for a client.
 */
async function sample(s: Scheduler, done: () => boolean, min: number): Promise<Record<Call, number[]>> {
  const out: Record<Call, number[]> = { health: [], stats: [], metrics: [] };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < min || !done(); i++) {
    const dueMs = i * 50;
    const wait = dueMs - msSince(t0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (const c of CALLS) {
      await s[c]();
      out[c].push(msSince(t0) - dueMs);
    }
    if (i > 100_000) break;
  }
  return out;
}

function summary(xs: Record<Call, number[]>): Record<Call, { n: number; p50: number; p99: number; max: number }> {
  const r = {} as Record<Call, { n: number; p50: number; p99: number; max: number }>;
  for (const c of CALLS) {
    const p = percentiles(xs[c]);
    r[c] = { n: xs[c].length, p50: +p.p50.toFixed(2), p99: +p.p99.toFixed(2), max: +p.max.toFixed(2) };
  }
  return r;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rae-bench-health-'));
  const s = await createScheduler({ dataDir: dir, maxConcurrentJobs: 2, maxQueuedJobs: JOBS * 2 + 1000 });
  try {
    await s.addJob({ name: 'work', schedule: 'never', command: 'true', overlap: 'allow' });
    const idle = summary(await sample(s, () => true, 30));

    // (a) 200 runNow in the scheduler's mailbox.
    let answered = 0;
    const burst = Array.from({ length: 200 }, () => s.runNow('work').then(() => answered++));
    const runNow = summary(await sample(s, () => answered >= 200, 5));
    await Promise.all(burst);

    // (b) JOBS jobs due at the same second: add them, then sample across the fire.
    const adds: Array<Promise<unknown>> = [];
    for (let i = 0; i < JOBS; i++) {
      adds.push(s.addJob({ name: `j${i}`, schedule: '0 * * * * *', command: 'true' }));
      if (adds.length >= 200) await Promise.all(adds.splice(0));
    }
    await Promise.all(adds);
    // Wait for the next :00 second, then sample for 15 s of the burst.
    const now = Date.now();
    const nextMinute = Math.ceil((now + 1) / 60_000) * 60_000;
    await new Promise((r) => setTimeout(r, nextMinute - now - 200));
    const until = Date.now() + 15_000;
    const fires = summary(await sample(s, () => Date.now() > until, 5));
    const stats = await s.stats();
    const runs = stats.runs.total;

    const result = { jobs: JOBS, idle, runNow200: runNow, fireBurst: fires, queueAtEnd: stats.queue, runsAtEnd: runs, load: os.loadavg() };
    writeResult('health', result);
    const row = (label: string, r: typeof idle): string => CALLS.map((c) =>
      `${label.padEnd(22)} ${c.padEnd(8)} n=${String(r[c].n).padStart(4)}  p50 ${r[c].p50.toFixed(1).padStart(7)} ms  p99 ${r[c].p99.toFixed(1).padStart(7)} ms  max ${r[c].max.toFixed(1).padStart(7)} ms  (max/idle max ${(r[c].max / Math.max(idle[c].max, 0.001)).toFixed(1)}x)`).join('\n');
    console.log(row('idle', idle));
    console.log(row('200 runNow queued', runNow));
    console.log(row(`burst of ${JOBS} fires`, fires));
    console.log(`queue at the end: ${JSON.stringify(stats.queue)}, runs ${runs}; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  } finally {
    await s.shutdown({ graceMs: 0 });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
