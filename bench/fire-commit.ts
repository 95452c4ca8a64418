/**
 * What the persistence thread pays per fire: W3's shape (N jobs on `every 1s`, each firing once a
 * second and finishing the run of the second before) written through the store port
 * (`Store.commitBatch`, the batch the scheduler's committer sends), beside raw lmdb puts of the same
 * count in the same process and run — the ceiling a fire record can approach.
 *
 * Per repetition (interleaved, so a burst of load hits every figure alike):
 * - `raw`: N puts of a small value under a `[jobId, at]` key in one child transaction, flushed;
 * - `fires`: one batch of N fires (slot + queued run) as the scheduler sends it;
 * - `finishes`: one batch of the N final records of those runs;
 * - `second`: the steady state — one batch holding second k's N fires and second k−1's N finishes;
 * - `clone`: structuredClone of the `second` batch (what posting it to the thread copies);
 * - `rollups`: the statistics rollups alone of the N final records (batches.ts `TxMemo`: the global
 *   rollup read, counted and written once per batch, the jobs' as one pending record), in one child
 *   transaction of the raw environment — the share of `finishes` they take (issue 7: about half, at
 *   10,000 jobs, when each job's record was read and written per batch);
 * - `fold`: folding 10 such batches' pending records into the N jobs' records, shard by shard
 *   (rollup-pending.ts), ÷ 10: what the per-job statistics cost per second of finishes now; and
 *   the longest single shard's fold (what one batch's transaction takes on top).
 * LMDB operations per fire are counted by wrapping lmdb's database methods (puts, removes, reads).
 *
 * Run: `npx tsc -p . && node dist/bench/fire-commit.js [--jobs 10000] [--reps 5] [--states]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as lmdb from 'lmdb';
import { Store } from '../src/actors/persistence/store';
import type { Batch, FireRecord } from '../src/actors/persistence/port';
import type { Job } from '../src/model/job';
import type { Run } from '../src/model/run';
import { newId } from '../src/model/ids';
import { TxMemo } from '../src/actors/persistence/batches';
import { appendPendingTx, foldShardTx, pendingOf, SHARDS } from '../src/actors/persistence/rollup-pending';
import type { Tables } from '../src/actors/persistence/tables';
import { finishRun, newRun, newSlot } from '../src/actors/scheduler/runs';
import { msSince, percentiles } from './lib';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};

const T0 = Date.parse('2026-03-01T00:00:00.000Z');

function job(n: number): Job {
  const at = new Date(T0).toISOString();
  return {
    id: newId('job', T0 + n), name: `job-${n}`, schedule: 'every 1s', timezone: null,
    command: null, module: '/tmp/noop.js', enabled: true, priority: 0, retry: { maxRetries: 0, backoffMs: 1000 },
    limits: { timeoutMs: 5000 }, overlap: 'skip', catchUp: 'none', cwd: null, env: {}, triggers: [],
    jitterMs: 0, createdAt: at, updatedAt: at, completedAt: null, nextRunAt: null, lastRun: null,
    state: 'scheduled',
  } as Job;
}

/** Counts lmdb database calls made while `fn` runs (wrapping the shared prototype's methods). */
const counts: Record<string, number> = {};
function countCalls(proto: Record<string, unknown>): void {
  for (const name of ['put', 'remove', 'get', 'getBinary', 'doesExist', 'getRange', 'getKeys']) {
    const orig = proto[name] as ((...a: unknown[]) => unknown) | undefined;
    if (typeof orig !== 'function') continue;
    proto[name] = function (this: unknown, ...a: unknown[]) {
      counts[name] = (counts[name] ?? 0) + 1;
      return orig.apply(this, a);
    };
  }
}
const snapshot = (): Record<string, number> => ({ ...counts });
const diff = (a: Record<string, number>, b: Record<string, number>, per: number): string =>
  Object.keys(b).filter((k) => (b[k] ?? 0) !== (a[k] ?? 0)).map((k) => `${k} ${(((b[k] ?? 0) - (a[k] ?? 0)) / per).toFixed(2)}`).join(', ');

// Every environment opened from here on (the store's too) has its databases' calls counted.
const lmdbOpen = lmdb.open;
let patched = false;
(lmdb as { open: unknown }).open = (...a: Parameters<typeof lmdb.open>) => {
  const env = lmdbOpen(...a);
  if (!patched) countCalls(Object.getPrototypeOf(env) as Record<string, unknown>);
  patched = true;
  return env;
};

async function main(): Promise<void> {
  const n = arg('jobs', 10_000);
  const reps = arg('reps', 5);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rae-bench-fire-'));
  const rawDir = mkdtempSync(path.join(os.tmpdir(), 'rae-bench-raw-'));
  const store = await Store.open({ dataDir: dir });
  const rawEnv = lmdb.open(rawDir, {});
  const raw = rawEnv.openDB<{ a: string; b: string | null; c: string }, [string, string]>('raw', {});
  const jobs = Array.from({ length: n }, (_, i) => job(i));
  await store.insertJobs(jobs.map((j) => ({ job: j })));
  // Opened as the store opens its tables (msgpack values); TxMemo touches only these.
  const statsOnly = {
    stats: rawEnv.openDB('stats', {}), statsPending: rawEnv.openDB('statsPending', {}), meta: rawEnv.openDB('meta', {}),
    jobs: rawEnv.openDB('jobs', {}),
  } as unknown as Tables;
  await rawEnv.childTransaction(() => {
    for (const j of jobs) void statsOnly.jobs.put(j.id, j);
  });
  const samples: Record<string, number[]> = { raw: [], fires: [], finishes: [], second: [], clone: [], rollups: [], fold: [], foldMax: [] };
  const ops: Record<string, string> = {};
  let second = Math.ceil(Date.now() / 1000) * 1000;
  const firesOf = (at: number): { fires: FireRecord[]; runs: Run[] } => {
    const fires = jobs.map((j) => {
      const run = newRun(j, 'schedule', at, 1, at - 300);
      return { slot: newSlot(j.id, at, 'fired', run.id, null, at - 300), run };
    });
    return { fires, runs: fires.map((f) => f.run!) };
  };
  const finals = (runs: Run[], at: number): Run[] => runs.map((r) => finishRun({ ...r, startedAt: r.scheduledAt }, {
    status: 'succeeded', exitCode: 0, signal: null, startedAt: at, durationMs: 1, peakMemoryBytes: null, error: null, output: '',
  } as never, at + 2));
  const state = (j: Job, at: number) => ({ jobId: j.id, lastSlotAt: new Date(at).toISOString(), nextRunAt: new Date(at + 1000).toISOString(), anchorAt: j.createdAt });
  /**
   * The batch the committer sends for one second's fires. `--states`: with each job's schedule
   * state, as the scheduler sent it before schema 4 (a fire then wrote one; now the store derives it).
   */
  const withStates = process.argv.includes('--states');
  const fireBatch = (f: FireRecord[], at: number, extraRuns: Run[] = []): Batch => ({ fires: f, runs: extraRuns, states: withStates ? jobs.map((j) => state(j, at)) : [] });
  const time = async (fn: () => Promise<unknown>): Promise<number> => {
    const t = process.hrtime.bigint();
    await fn();
    return msSince(t);
  };
  for (let rep = 0; rep < reps; rep++) {
    let c0 = snapshot();
    samples.raw!.push(await time(async () => {
      await rawEnv.childTransaction(() => {
        for (let i = 0; i < n; i++) void raw.put([jobs[i]!.id, new Date(second).toISOString()], { a: 'fired', b: null, c: 'x' });
      });
      await rawEnv.flushed;
    }));
    ops.raw = diff(c0, snapshot(), n);
    const a = firesOf(second += 1000);
    c0 = snapshot();
    samples.fires!.push(await time(() => store.commitBatch(fireBatch(a.fires, second))));
    ops.fires = diff(c0, snapshot(), n);
    c0 = snapshot();
    samples.finishes!.push(await time(() => store.commitBatch({ fires: [], runs: finals(a.runs, second), states: [] })));
    ops.finishes = diff(c0, snapshot(), n);
    const done = finals(a.runs, second);
    samples.rollups!.push(await time(async () => {
      await rawEnv.childTransaction(() => {
        const memo = new TxMemo(statsOnly);
        for (const r of done) memo.count(r);
        memo.flushRollups();
      });
      await rawEnv.flushed;
    }));
    // The folds of 10 seconds of them (10 batches of N runs) into the N jobs' records, shard by
    // shard as batches do (rollup-pending.ts): their sum ÷ 10 (per second of finishes), and the
    // longest (what it adds to the one batch that carries it).
    await rawEnv.childTransaction(() => {
      for (let k = 0; k < 9; k++) appendPendingTx(statsOnly, done.map(pendingOf), Infinity);
    });
    // Timed inside one transaction (in a batch a fold rides in the batch's own commit: no flush of its own).
    const folds: number[] = [];
    await rawEnv.childTransaction(() => {
      for (let s = 0; s < SHARDS; s++) {
        const t = process.hrtime.bigint();
        foldShardTx(statsOnly, s);
        folds.push(msSince(t));
      }
    });
    await rawEnv.flushed;
    samples.fold!.push(folds.reduce((a, b) => a + b, 0) / 10);
    samples.foldMax!.push(Math.max(...folds));
    // Steady state: this second's fires with the last second's finishes.
    const b = firesOf(second += 1000);
    await store.commitBatch(fireBatch(b.fires, second));
    const c = firesOf(second += 1000);
    const steady = fireBatch(c.fires, second, finals(b.runs, second));
    const tc = process.hrtime.bigint();
    structuredClone(steady);
    samples.clone!.push(msSince(tc));
    c0 = snapshot();
    samples.second!.push(await time(() => store.commitBatch(steady)));
    ops.second = diff(c0, snapshot(), n);
    await store.commitBatch({ fires: [], runs: finals(c.runs, second), states: [] });
  }
  await store.close();
  await rawEnv.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(rawDir, { recursive: true, force: true });
  const med = (k: string): number => percentiles(samples[k]!).p50;
  const spread = (k: string): string => {
    const s = samples[k]!;
    return `±${Math.round(((Math.max(...s) - Math.min(...s)) / 2 / med(k)) * 100)}%`;
  };
  const perSec = (k: string): number => Math.round(n / (med(k) / 1000));
  console.log(`fire-commit: ${n} jobs, ${reps} reps${withStates ? ', a state per fire' : ''}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`  raw lmdb puts          ${perSec('raw')}/s (${med('raw').toFixed(0)} ms ${spread('raw')})  [per put: ${ops.raw}]`);
  console.log(`  fires (slot+run)       ${perSec('fires')}/s (${med('fires').toFixed(0)} ms ${spread('fires')}) = ${(perSec('fires') / perSec('raw')).toFixed(2)}x raw  [per fire: ${ops.fires}]`);
  console.log(`  finishes               ${perSec('finishes')}/s (${med('finishes').toFixed(0)} ms ${spread('finishes')}) = ${(perSec('finishes') / perSec('raw')).toFixed(2)}x raw  [per finish: ${ops.finishes}]`);
  console.log(`  a second (fire+finish) ${perSec('second')} jobs/s (${med('second').toFixed(0)} ms ${spread('second')}) = ${(perSec('second') / perSec('raw')).toFixed(2)}x raw  [per job: ${ops.second}]`);
  console.log(`  structuredClone of that second's batch: ${med('clone').toFixed(0)} ms ${spread('clone')}`);
  console.log(`  stats rollups alone    ${perSec('rollups')}/s (${med('rollups').toFixed(0)} ms ${spread('rollups')}) = ${Math.round((med('rollups') / med('finishes')) * 100)}% of finishes' time (global record + one pending record)`);
  console.log(`  their folds, per second ${med('fold').toFixed(0)} ms ${spread('fold')} (10 s of pending finishes folded into ${n} jobs' records, ${SHARDS} shards, ÷ 10); longest shard fold ${med('foldMax').toFixed(0)} ms ${spread('foldMax')}`);
}

void main();
