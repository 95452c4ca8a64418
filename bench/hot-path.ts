/**
 * Probes of the batched hot path (issue 7), each in a fresh process:
 * - `adds`: `addJob` durable round trips per second from N concurrent callers (they share commits),
 *   and from one caller awaiting each add (every add its own flush);
 * - `jump`: a 3-minute wall-clock step with K interval jobs armed (virtual clock): real time from
 *   the `clock.jumped` event until the scheduler is idle again with every job re-armed and the
 *   step durable, printed beside issue 7's ceiling (< 1 s with 100,000 jobs), how much of it the
 *   scheduler's own thread was busy (the rest is the persistence thread's commit) and the records
 *   its commits wrote; once with jobs that never fired, once with jobs that each fired once;
 * - `commits`: N `runNow` of `true` — store commits (group commits) per run, from the scheduler's
 *   own counters. Run it under `strace -f -e trace=fdatasync,fsync -c` to count flushes.
 *
 * Run: `npx tsc -p . && node dist/bench/hot-path.js [--adds 2000] [--jobs 100000] [--runs 300] [--only jump]`
 * Writes bench/results/hot-path.json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { createScheduler, testHooksOf } from '../src/scheduler';
import { Store } from '../src/actors/persistence/store';
import { VirtualClock } from '../src/runtime/clock';
import type { Job } from '../src/model/job';
import type { Run, Slot } from '../src/model/run';
import { childMain, msSince, runChild, writeResult } from './lib';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
/** Issue 7: a 3-minute clock step with 100,000 jobs handled in under this. */
const JUMP_CEILING_MS = 1000;
const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'rae-bench-hot-'));

async function adds(a: { n: number }): Promise<{ concurrentPerSec: number; sequentialPerSec: number }> {
  const dir = tmp();
  const s = await createScheduler({ dataDir: dir });
  try {
    await s.addJob({ name: 'warm', schedule: 'every 1h', command: 'true' });
    let t = process.hrtime.bigint();
    await Promise.all(Array.from({ length: a.n }, (_, i) => s.addJob({ name: `c${i}`, schedule: 'every 1h', command: 'true' })));
    const concurrentPerSec = Math.round(a.n / (msSince(t) / 1000));
    const m = Math.min(a.n, 300);
    t = process.hrtime.bigint();
    for (let i = 0; i < m; i++) await s.addJob({ name: `s${i}`, schedule: 'every 1h', command: 'true' });
    const sequentialPerSec = Math.round(m / (msSince(t) / 1000));
    return { concurrentPerSec, sequentialPerSec };
  } finally {
    await s.shutdown({ graceMs: 0 });
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What one jump probe measured. */
interface JumpResult { jobs: number; fired: boolean; handledMs: number; busyMs: number; startupMs: number; records: number; commits: number }

/**
 * `fired`: every job fired once before the step (its slot stored, T0 + 10 min, with its run), so its
 * watermark comes from that slot (fire-layout.ts) — the case that cost a state per job at a step
 * before slots carried their clock offset (clock-frame.ts).
 */
async function jump(a: { k: number; fired?: boolean }): Promise<JumpResult> {
  const dir = tmp();
  const T0 = Date.parse('2030-01-01T00:00:00.000Z');
  const iso = new Date(T0).toISOString();
  const firedAt = new Date(T0 + 600_000).toISOString();
  const fired = a.fired === true;
  // The jobs go in with one restore (one transaction), not k adds.
  const jobs: Job[] = Array.from({ length: a.k }, (_, i) => ({
    id: `job_${String(i).padStart(8, '0')}`, name: `j${i}`, schedule: 'every 10 minutes', timezone: null,
    command: 'true', module: null, enabled: true, priority: 0, retry: { maxRetries: 0, backoffMs: 1000 }, limits: {},
    overlap: 'skip', catchUp: 'once', cwd: null, env: {}, triggers: [], jitterMs: 0, createdAt: iso, updatedAt: iso,
    completedAt: null, nextRunAt: null, lastRun: null, state: 'scheduled',
  }));
  const runs: Run[] = fired ? jobs.map((j, i) => ({
    id: `run_${String(i).padStart(8, '0')}`, jobId: j.id, attempt: 1, trigger: 'schedule', status: 'succeeded', exitCode: 0,
    signal: null, scheduledAt: firedAt, startedAt: firedAt, finishedAt: firedAt, durationMs: 1, peakMemoryBytes: null, error: null, output: '',
  })) : [];
  const slots: Slot[] = runs.map((r) => ({ jobId: r.jobId, at: firedAt, outcome: 'fired', runId: r.id, reason: null, recordedAt: firedAt }));
  const store = await Store.open({ dataDir: dir });
  await store.restore({ format: 'rae-sched-backup', version: 1, createdAt: iso, jobs, runs, slots });
  await store.close();
  const clock = new VirtualClock(T0 + (fired ? 601_000 : 1000));
  let t = process.hrtime.bigint();
  const s = await createScheduler({ dataDir: dir, clock });
  const startupMs = Math.round(msSince(t));
  try {
    // Start-up's own writes (states of jobs armed through recovery) are done before the step.
    await clock.advance(1000);
    const before = await testHooksOf(s).commitStats();
    const jumped = firstValueFrom(s.events$.pipe(filter((e) => e.type === 'clock.jumped')));
    let at = 0n;
    let elu = performance.eventLoopUtilization();
    // Stamped as the handler publishes the event (synchronously, inside it).
    s.events$.pipe(filter((e) => e.type === 'clock.jumped')).subscribe(() => { at = process.hrtime.bigint(); elu = performance.eventLoopUtilization(); });
    clock.jump(180_000);
    // The queue's timer notices the step at its next wake (each wait is capped at 30 s).
    await clock.advance(30_000);
    await jumped;
    t = at;
    // advance() returned once every actor was idle: the re-arm, its timeline message and its commit are done.
    // How long the scheduler's thread (the main thread: scheduler, queue, reads) was busy meanwhile.
    const busyMs = Math.round(performance.eventLoopUtilization(elu).active);
    const handledMs = Math.round(msSince(t));
    const after = await testHooksOf(s).commitStats();
    // Records the step's commits wrote (schedule states; the clock record itself is not counted).
    return { jobs: a.k, fired, handledMs, busyMs, startupMs, records: after.records - before.records, commits: after.commits - before.commits };
  } finally {
    await s.shutdown({ graceMs: 0 });
    rmSync(dir, { recursive: true, force: true });
  }
}

async function commits(a: { n: number }): Promise<{ runs: number; commits: number; commitsPerRun: number; records: number }> {
  const dir = tmp();
  const s = await createScheduler({ dataDir: dir, maxConcurrentJobs: 4 });
  try {
    await s.addJob({ name: 'noop', schedule: 'never', overlap: 'allow', command: { argv: ['true'] } });
    const before = await testHooksOf(s).commitStats();
    const runs = await Promise.all(Array.from({ length: a.n }, () => s.runNow('noop')));
    await Promise.all(runs.map((r) => s.waitForRun(r.id)));
    const after = await testHooksOf(s).commitStats();
    const c = after.commits - before.commits;
    return { runs: a.n, commits: c, commitsPerRun: +(c / a.n).toFixed(3), records: after.records - before.records };
  } finally {
    await s.shutdown({ graceMs: 0 });
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `--only jump` (or `adds`, `commits`, comma-separated): only those probes. */
const only = ((): Set<string> | null => {
  const i = process.argv.indexOf('--only');
  return i >= 0 ? new Set(process.argv[i + 1]!.split(',')) : null;
})();
const wanted = (name: string): boolean => only === null || only.has(name);

async function main(): Promise<void> {
  const out: Record<string, unknown> = {};
  if (wanted('adds')) out.adds = await probeAdds();
  if (wanted('jump')) out.jump = await probeJump();
  if (wanted('commits')) out.commits = await probeCommits();
  console.log(`written ${writeResult('hot-path', out)}`);
}

async function probeAdds(): Promise<unknown> {
  const add = await runChild<Awaited<ReturnType<typeof adds>>>(__filename, 'adds', { n: arg('adds', 2000) });
  console.log(`addJob: ${add.concurrentPerSec}/s from ${arg('adds', 2000)} concurrent callers, ${add.sequentialPerSec}/s one at a time`);
  return add;
}

async function probeJump(): Promise<unknown> {
  const out: JumpResult[] = [];
  for (const fired of [false, true]) {
    const j = await runChild<JumpResult>(__filename, 'jump', { k: arg('jobs', 100_000), fired });
    // Issue 7's ceiling for this figure: a 3-minute step with 100,000 jobs handled in under 1 s.
    const jumpMet = j.jobs >= 100_000 ? (j.handledMs < JUMP_CEILING_MS ? 'met' : 'NOT met') : `not judged below 100,000 jobs`;
    console.log(`clock step +3 min with ${j.jobs} interval jobs (${fired ? 'each fired once' : 'never fired'}): handled in ${j.handledMs} ms`
      + ` (scheduler's thread busy ${j.busyMs} ms; ${j.records} records in ${j.commits} commits; start-up ${j.startupMs} ms)`
      + ` — goal < ${JUMP_CEILING_MS} ms with 100,000 jobs: ${jumpMet}`);
    out.push(j);
  }
  return out;
}

async function probeCommits(): Promise<unknown> {
  const c = await runChild<Awaited<ReturnType<typeof commits>>>(__filename, 'commits', { n: arg('runs', 300) });
  console.log(`${c.runs} runNow: ${c.commits} store commits (${c.commitsPerRun} per run, ${c.records} records)`);
  return c;
}

if (!childMain({ adds, jump, commits })) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
