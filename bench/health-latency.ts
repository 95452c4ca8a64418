/**
 * `health`, `stats` and `metrics` latency through the REAL daemon (`bin/rae-sched daemon`), as its
 * clients see it: the CLI's own client (`RemoteScheduler`, HTTP + JSON on the Unix socket) and the
 * `rae-sched health` command (a process spawned to exit). Three phases, in the same run:
 *
 * 1. idle (the daemon holds the N burst jobs, none due yet);
 * 2. 200 `runNow` sent at once (waiting in the scheduler's mailbox);
 * 3. a burst of N fires (default 10,000) due at the same instant T: N jobs written into the
 *    store before the daemon starts, each with its next slot stored at T, so the daemon arms them
 *    all for T. Their schedule is a seconds cron firing once a minute at T's second (`--schedule
 *    cron`, default: the costly next-fire maths of a cron in a zone) or `every 1m` (`interval`). Sampled from T − 1 s until every slot of the burst is recorded (and at
 *    least `--burst-s`, default 15 s).
 *
 * The goal (issue 8): each answers within 1 s while the scheduler is saturated. Beside it: the
 * daemon's own event-loop lag as its `health` reports it (src/actors/monitor/checks.ts, 5 s
 * windows), and how long the daemon took to record the burst's slots (what time-slicing costs).
 *
 * Run: `npm run bench:health [-- --jobs 10000 --schedule cron|interval --burst-s 15 --lead-s 40 --cpu-prof DIR]`
 * (`--cpu-prof DIR`: the daemon runs under `node --cpu-prof`, its profile written to DIR at exit).
 * Prints a table; writes bench/results/health.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Store } from '../src/actors/persistence/store';
import type { ScheduleState } from '../src/actors/persistence/schema';
import { RemoteScheduler } from '../src/cli/client';
import type { Health } from '../src/model';
import type { Job } from '../src/model/job';
import { newId } from '../src/model/ids';
import { msSince, percentiles, writeResult, type Percentiles } from './lib';

const BIN = path.resolve(__dirname, '../../bin/rae-sched');
const argStr = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const arg = (name: string, dflt: number): number => Number(argStr(name) ?? dflt);
const JOBS = arg('--jobs', 10_000);
const BURST_S = arg('--burst-s', 15);
/** Seconds from writing the store to the burst: start-up, idle and runNow phases happen before. */
const LEAD_S = arg('--lead-s', 40);
const PROF = argStr('--cpu-prof');
const SCHEDULE = argStr('--schedule') ?? 'cron';
const CALLS = ['health', 'stats', 'metrics'] as const;
type Call = typeof CALLS[number] | 'cli health';
const ALL: Call[] = [...CALLS, 'cli health'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** N jobs once a minute, each with its next slot stored at `at` (start-up arms them straight from it). */
async function populate(dataDir: string, n: number, at: number): Promise<void> {
  const store = await Store.open({ dataDir });
  const anchor = new Date(at - 60_000).toISOString();
  const schedule = SCHEDULE === 'interval' ? 'every 1m' : `${new Date(at).getUTCSeconds()} * * * * *`;
  try {
    for (let from = 0; from < n; from += 2000) {
      const jobs: Job[] = [];
      for (let i = from; i < Math.min(from + 2000, n); i++) {
        jobs.push({
          id: newId('job'), name: `burst-${i}`, schedule, timezone: 'UTC', command: { argv: ['true'] }, module: null,
          enabled: true, priority: 0, retry: { maxRetries: 0, backoffMs: 1000 }, limits: {}, overlap: 'skip', catchUp: 'once',
          cwd: null, env: {}, triggers: [], jitterMs: 0, createdAt: anchor, updatedAt: anchor, completedAt: null,
          nextRunAt: null, lastRun: null, state: 'scheduled',
        });
      }
      await Promise.all(jobs.map((j) => store.insertJob(j)));
      const states: ScheduleState[] = jobs.map((j) => ({ jobId: j.id, lastSlotAt: anchor, nextRunAt: new Date(at).toISOString(), anchorAt: anchor }));
      await store.putScheduleStates(states);
    }
  } finally {
    await store.close();
  }
}

/** Wall time of `rae-sched health` (spawn → exit; exit 1 = unhealthy is an answer too). */
function cliHealth(dataDir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const child = spawn(process.execPath, [BIN, 'health', '--json', '--data-dir', dataDir], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 || code === 1 ? resolve(msSince(t)) : reject(new Error(`rae-sched health exited ${code}`))));
  });
}

interface Samples { lat: Record<Call, number[]>; lag: { p99: number; max: number } | null }

/** The daemon's own event-loop lag, as its `eventLoop` health component reports it. */
function lagOf(h: Health): { p99: number; max: number } | null {
  const m = /lag p99 ([\d.]+) ms, max ([\d.]+) ms/.exec(h.components.eventLoop?.detail ?? '');
  return m === null ? null : { p99: Number(m[1]), max: Number(m[2]) };
}

/**
 * Until `done()` (at least `min` rounds): each of health/stats/metrics in turn through the client,
 * one request at a time, a round every 100 ms; beside it, `rae-sched health` processes one after
 * the other. Each latency is one request's (or process's) wall time.
 */
async function sample(remote: RemoteScheduler, dataDir: string, done: () => boolean, min: number): Promise<Samples> {
  const out: Samples = { lat: { health: [], stats: [], metrics: [], 'cli health': [] }, lag: null };
  let stop = false;
  const cli = (async () => {
    for (let i = 0; i < 3 || !stop; i++) out.lat['cli health'].push(await cliHealth(dataDir));
  })();
  for (let i = 0; i < min || !done(); i++) {
    const t0 = process.hrtime.bigint();
    for (const c of CALLS) {
      const t = process.hrtime.bigint();
      const r = await remote[c]();
      out.lat[c].push(msSince(t));
      if (c === 'health') {
        const lag = lagOf(r as Health);
        if (lag !== null && (out.lag === null || lag.max > out.lag.max)) out.lag = lag;
      }
    }
    const wait = 100 - msSince(t0);
    if (wait > 0) await sleep(wait);
  }
  stop = true;
  await cli;
  return out;
}

type Row = Record<Call, Percentiles>;
const summary = (s: Samples): Row => Object.fromEntries(ALL.map((c) => [c, percentiles(s.lat[c])])) as Row;

/** Slots the daemon recorded since it started (any outcome), from its Prometheus counters. */
async function slotsRecorded(remote: RemoteScheduler): Promise<number> {
  const text = await remote.metrics();
  return [...text.matchAll(/^rae_slots_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

async function waitFor(check: () => Promise<boolean>, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rae-bench-health-'));
  const at = Math.ceil((Date.now() + LEAD_S * 1000) / 1000) * 1000;
  let daemon: ChildProcess | null = null;
  try {
    await populate(dir, JOBS, at);
    const socket = path.join(dir, 'rae-sched.sock');
    const execArgv = PROF === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(PROF)}`];
    daemon = spawn(process.execPath, [...execArgv, BIN, 'daemon', '--data-dir', dir], { stdio: 'ignore' });
    const remote = new RemoteScheduler(socket);
    await waitFor(async () => (await remote.health()).components.scheduler?.healthy === true, 'the daemon', 120_000);
    await remote.addJob({ name: 'work', schedule: 'never', command: 'true', overlap: 'allow' });
    const idle = summary(await sample(remote, dir, () => true, 30));

    // 200 runNow at once, sampled until all are answered.
    let answered = 0;
    const burst = Array.from({ length: 200 }, () => remote.runNow('work').then(() => answered++));
    const runNow = summary(await sample(remote, dir, () => answered >= 200, 5));
    await Promise.all(burst);

    const before = await slotsRecorded(remote);
    const lead = at - 1000 - Date.now();
    if (lead < 0) throw new Error(`the burst was due before the idle phases ended (${-lead} ms late): raise --lead-s`);
    await sleep(lead);
    let recorded = before;
    let recordedAt: number | null = null;
    const watch = (async () => {
      while (recorded - before < JOBS && Date.now() < at + 600_000) {
        await sleep(250);
        recorded = await slotsRecorded(remote);
        if (recorded - before >= JOBS) recordedAt = Date.now();
      }
    })();
    const fires = await sample(remote, dir, () => Date.now() > at + BURST_S * 1000 && recordedAt !== null, 5);
    await watch;
    const fireBurst = summary(fires);
    const stats = await remote.stats();
    const burstSeconds = recordedAt === null ? null : (recordedAt - at) / 1000;

    const result = {
      jobs: JOBS, schedule: SCHEDULE, idle, runNow200: runNow, fireBurst, lagDuringBurst: fires.lag,
      slotsRecorded: recorded - before, burstRecordedInS: burstSeconds, queueAtEnd: stats.queue, runsAtEnd: stats.runs.total,
    };
    writeResult('health', result);
    const f = (v: number): string => v.toFixed(1).padStart(8);
    console.log(`${'phase'.padEnd(22)} ${'call'.padEnd(10)}     n      p50 ms      p99 ms      max ms   max/idle max`);
    for (const [label, r] of [['idle', idle], ['200 runNow queued', runNow], [`burst of ${JOBS} fires`, fireBurst]] as const) {
      for (const c of ALL) {
        const p = r[c];
        console.log(`${label.padEnd(22)} ${c.padEnd(10)} ${String(p.n).padStart(5)} ${f(p.p50)}    ${f(p.p99)}    ${f(p.max)}    ${(p.max / Math.max(idle[c].max, 0.001)).toFixed(1).padStart(6)}x`);
      }
    }
    const lag = fires.lag === null ? 'not sampled' : `p99 ${fires.lag.p99.toFixed(1)} ms, max ${fires.lag.max.toFixed(1)} ms (worst 5 s window)`;
    console.log(`daemon event-loop lag during the burst: ${lag}`);
    console.log(`burst slots recorded: ${recorded - before} of ${JOBS}${burstSeconds === null ? '' : `, all within ${burstSeconds.toFixed(1)} s of T`}; ` +
      `queue at the end ${JSON.stringify(stats.queue)}; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  } finally {
    if (daemon !== null && daemon.exitCode === null) {
      const exited = new Promise((r) => daemon!.once('exit', r));
      daemon.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
