/**
 * Scale benchmark of the WHOLE scheduler: how many jobs can `createScheduler` hold, and what do
 * start-up, memory, addJob and shutdown cost at 10k / 100k / 1M stored jobs?
 *
 * Per size N, each step in a fresh process:
 * 1. `populate`: bulk-insert N jobs straight into the store (Store.insertJob, a few thousand
 *    concurrent writes per batch) — a mix of `every K minutes`, `*∕5 * * * *`, `@hourly` and
 *    `every weekday at 9am`, tz UTC. Each job's schedule watermark is set 6 h ahead, so no job falls
 *    due while we measure: the numbers are the cost of HOLDING jobs, not of firing them.
 * 2. `scheduler`: `createScheduler({ dataDir, mode: 'active' })` — start-up time until it resolves,
 *    RSS (anon and file-backed: LMDB's map counts as file RSS) and main-thread heap after gc, addJob
 *    p50/p99 for 200 more jobs, shutdown time. Runs with --max-old-space-size=4096 so we learn the
 *    real peak instead of V8's default limit.
 * 3. baseline `timeline`: the bare queue Timeline holding the same N entries (with their id
 *    strings) — bytes/job of the scheduler compared with bytes/job of the structure it is built on.
 * Bytes/job of the scheduler = (RSS at N − RSS of an empty scheduler, measured in the same run) / N.
 *
 * Run: `npx tsc -p . && node dist/bench/scheduler-scale.js [--sizes 10000,100000,1000000]`
 * Writes bench/results/scheduler-scale.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Table from 'cli-table3';
import { Store } from '../src/actors/persistence/store';
import { Timeline } from '../src/actors/queue/timeline';
import { nextFire, parseSchedule } from '../src/actors/parser/schedule';
import { createScheduler } from '../src/scheduler';
import type { Job } from '../src/model/job';
import type { Scheduler } from '../src/api';
import { newId } from '../src/model/ids';
import { childMain, mb, mem, msSince, percentiles, runChild, writeResult, type Percentiles } from './lib';

const BATCH = 4000;
const ADDS = 200;
const HORIZON_MS = 6 * 3_600_000;
const SCHEDULES = ['*/5 * * * *', '@hourly', 'every weekday at 9am'];

interface Memory { rss: number; rssAnon: number | null; rssFile: number | null; heap: number }

/** Memory after gc, with RSS split into anonymous and file-backed (LMDB's map) where Linux tells. */
function memory(): Memory {
  const m = mem();
  let rssAnon: number | null = null;
  let rssFile: number | null = null;
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (k: string): number | null => {
      const hit = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status);
      return hit ? Number(hit[1]) * 1024 : null;
    };
    rssAnon = kb('RssAnon');
    rssFile = kb('RssFile');
  } catch {
    // Not Linux: total RSS only.
  }
  return { rss: m.rss, rssAnon, rssFile, heap: m.heap };
}

function benchJob(i: number, createdAt: string): Job {
  const schedule = i % 4 === 0 ? `every ${5 + (i % 55)} minutes` : SCHEDULES[(i % 4) - 1]!;
  return {
    id: newId('job'), name: `bench-${i}`, schedule, timezone: 'UTC', command: 'true', module: null,
    enabled: true, priority: 0, retry: { maxRetries: 0, backoffMs: 1000 }, limits: {}, overlap: 'skip',
    catchUp: 'once', cwd: null, env: {}, triggers: [], jitterMs: 0, createdAt, updatedAt: createdAt,
    completedAt: null, nextRunAt: null, lastRun: null, state: 'scheduled',
  };
}

interface PopulateResult { n: number; insertMs: number; jobsPerSec: number }

/** The next slot of a bench job after `iso` (jobs share a few schedules and one creation time). */
const nextCache = new Map<string, string>();
function nextAfter(job: Job, iso: string): string {
  const key = `${job.schedule}\0${iso}`;
  let next = nextCache.get(key);
  if (next === undefined) {
    const s = parseSchedule(job.schedule, { tz: job.timezone, now: Date.parse(job.createdAt) });
    next = new Date(nextFire(s, Date.parse(iso), Date.parse(job.createdAt))!).toISOString();
    nextCache.set(key, next);
  }
  return next;
}

async function populate(a: { dataDir: string; n: number }): Promise<PopulateResult> {
  const store = await Store.open({ dataDir: a.dataDir });
  const now = Date.now();
  const createdAt = new Date(now).toISOString();
  const watermark = new Date(now + HORIZON_MS).toISOString();
  const t = process.hrtime.bigint();
  for (let from = 0; from < a.n; from += BATCH) {
    const jobs = Array.from({ length: Math.min(BATCH, a.n - from) }, (_, k) => benchJob(from + k, createdAt));
    await Promise.all(jobs.map((j) => store.insertJob(j)));
    // As a daemon leaves it: the watermark and the next slot after it, so start-up takes the path
    // of every start but the first (arming from the stored next slot, reading only job heads).
    await store.putScheduleStates(jobs.map((j) => ({ jobId: j.id, lastSlotAt: watermark, nextRunAt: nextAfter(j, watermark), anchorAt: createdAt })));
  }
  const insertMs = msSince(t);
  if (store.counts().jobs !== a.n) throw new Error(`store holds ${store.counts().jobs} jobs, expected ${a.n}`);
  await store.close();
  return { n: a.n, insertMs: Math.round(insertMs), jobsPerSec: Math.round(a.n / (insertMs / 1000)) };
}

interface SchedulerResult {
  n: number;
  before: Memory;
  after: Memory;
  startupMs: number;
  addJob: Percentiles;
  shutdownMs: number;
  jobsListed: number;
}

/** A start-up that did not resolve: how long it took to fail, and with what. */
interface StartupFailure { n: number; before: Memory; after: Memory; failedAfterMs: number; code: string | null; message: string }

async function scheduler(a: { dataDir: string; n: number }): Promise<SchedulerResult | StartupFailure> {
  const before = memory();
  let t = process.hrtime.bigint();
  let s: Scheduler;
  try {
    s = await createScheduler({ dataDir: a.dataDir, mode: 'active' });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { n: a.n, before, after: memory(), failedAfterMs: Math.round(msSince(t)), code: e.code ?? null, message: String(e.message) };
  }
  const startupMs = msSince(t);
  const after = memory();
  const lat: number[] = [];
  for (let i = 0; i < ADDS; i++) {
    t = process.hrtime.bigint();
    await s.addJob({ name: `added-${i}`, schedule: i % 2 === 0 ? 'every 6 hours' : '0 3 1 1 *', timezone: 'UTC', command: 'true' });
    lat.push(msSince(t));
  }
  const jobsListed = (await s.stats()).jobs.total;
  t = process.hrtime.bigint();
  await s.shutdown({ graceMs: 1000 });
  const shutdownMs = msSince(t);
  if (jobsListed !== a.n + ADDS) throw new Error(`scheduler holds ${jobsListed} jobs, expected ${a.n + ADDS}`);
  return { n: a.n, before, after, startupMs: Math.round(startupMs), addJob: percentiles(lat), shutdownMs: Math.round(shutdownMs), jobsListed };
}

interface TimelineResult { n: number; rssBytes: number; heapBytes: number }

async function timeline(a: { n: number }): Promise<TimelineResult> {
  const m0 = mem();
  const now = Date.now();
  const ids = Array.from({ length: a.n }, () => newId('job'));
  const tl = new Timeline();
  for (let i = 0; i < a.n; i++) tl.upsert(ids[i]!, now + HORIZON_MS + (i % 3_600_000));
  const m1 = mem();
  if (tl.size !== a.n) throw new Error('timeline lost entries');
  return { n: a.n, rssBytes: m1.rss - m0.rss, heapBytes: m1.heap - m0.heap };
}

interface Row {
  n: number;
  populate?: PopulateResult;
  /** Whether the page cache was dropped before start-up (a cold start, as after a reboot). */
  coldCache?: boolean;
  scheduler?: SchedulerResult;
  timeline?: TimelineResult;
  startupFailure?: StartupFailure;
  error?: string;
}

/**
 * A daemon starting after a reboot finds the store's pages on disk, not in the page cache. Right
 * after populate they are all cached, and the kernel's fault-around maps cached neighbours of every
 * page start-up touches, which inflates file-backed RSS. Drop the page cache when allowed (root on
 * Linux); the result records whether it was.
 */
function dropPageCache(): boolean {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '1');
    return true;
  } catch {
    return false;
  }
}

async function measure(n: number): Promise<Row> {
  const row: Row = { n };
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'rae-bench-scale-'));
  try {
    row.populate = await runChild<PopulateResult>(__filename, 'populate', { dataDir, n }, { execArgv: ['--max-old-space-size=4096'] });
    console.log(`  N=${n}: populated in ${row.populate.insertMs} ms`);
    row.coldCache = dropPageCache();
    const sc = await runChild<SchedulerResult | StartupFailure>(__filename, 'scheduler', { dataDir, n }, { execArgv: ['--max-old-space-size=4096'] });
    if ('failedAfterMs' in sc) {
      row.startupFailure = sc;
      throw new Error(`createScheduler failed after ${sc.failedAfterMs} ms: ${sc.code ?? ''} ${sc.message} (RSS ${mb(sc.after.rss)} MB)`);
    }
    row.scheduler = sc;
    console.log(`  N=${n}: scheduler started in ${sc.startupMs} ms, RSS ${mb(sc.after.rss)} MB`);
  } catch (err) {
    row.error = (err as Error).message;
    console.log(`  N=${n}: FAILED ${row.error}`);
  }
  try {
    if (n > 0) row.timeline = await runChild<TimelineResult>(__filename, 'timeline', { n });
  } catch (err) {
    row.error = `${row.error ?? ''} timeline: ${(err as Error).message}`;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  return row;
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--sizes');
  const sizes = i >= 0 ? process.argv[i + 1]!.split(',').map(Number) : [10_000, 100_000, 1_000_000];
  const rows: Row[] = [];
  for (const n of [0, ...sizes]) rows.push(await measure(n));
  const empty = rows[0]!.scheduler;
  const perJob = (r: Row): number | null =>
    r.scheduler && empty && r.n > 0 ? Math.round((r.scheduler.after.rss - empty.after.rss) / r.n) : null;
  const anonPerJob = (r: Row): number | null =>
    r.scheduler?.after.rssAnon != null && empty?.after.rssAnon != null && r.n > 0 ? Math.round((r.scheduler.after.rssAnon - empty.after.rssAnon) / r.n) : null;
  const tlPerJob = (r: Row): number | null => (r.timeline ? Math.round(r.timeline.rssBytes / r.n) : null);
  const table = new Table({ style: { head: [], border: [] }, head: ['jobs', 'insert/s', 'start-up ms', 'RSS MB', 'anon MB', 'file MB', 'main heap MB', 'B/job', 'anon B/job', 'timeline B/job', 'ratio', 'addJob p50/p99 ms', 'shutdown ms'] });
  const ratios: Record<string, number | null> = {};
  for (const r of rows) {
    const sc = r.scheduler;
    const ratio = perJob(r) !== null && tlPerJob(r) ? +(perJob(r)! / tlPerJob(r)!).toFixed(1) : null;
    if (r.n > 0) ratios[`bytes/job scheduler / timeline at ${r.n}`] = ratio;
    const f = (v: number | null | undefined): string => (v == null ? '—' : String(v));
    table.push([r.n.toLocaleString('en'), f(r.populate?.jobsPerSec), r.startupFailure ? `failed after ${r.startupFailure.failedAfterMs}` : r.error !== undefined && sc === undefined ? 'error' : f(sc?.startupMs), sc ? mb(sc.after.rss) : '—',
      sc?.after.rssAnon != null ? mb(sc.after.rssAnon) : '—', sc?.after.rssFile != null ? mb(sc.after.rssFile) : '—',
      sc ? mb(sc.after.heap) : '—', f(perJob(r)), f(anonPerJob(r)), f(tlPerJob(r)), ratio === null ? '—' : `${ratio}x`,
      sc ? `${sc.addJob.p50} / ${sc.addJob.p99}` : '—', f(sc?.shutdownMs)]);
  }
  console.log(table.toString());
  for (const [k, v] of Object.entries(ratios)) console.log(`${k}: ${v === null ? '—' : `${v}x`}`);
  console.log(`written ${writeResult('scheduler-scale', { rows, ratios })}`);
}

if (!childMain({ populate, scheduler, timeline })) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
