/**
 * The executor alone: N runs of `true` (argv form) through {@link ExecutorPool} at concurrency C,
 * against `child_process.spawn('true')` at the same concurrency — first in the SAME process, with
 * the pool's threads alive (so both pay the same fork cost of the same address space), then in a
 * small fresh process (the bare ceiling). No scheduler, no store: what is left between the pool
 * and the ceiling is the main → worker → child hop and the run's own supervision (process group,
 * usage sampling, output ring, cleanup).
 *
 * Run: `npx tsc -p . && node dist/bench/executor-spawn.js [--runs 500] [--concurrency 4,16]`
 * Writes bench/results/executor-spawn.json.
 */
import { spawn } from 'node:child_process';
import Table from 'cli-table3';
import { ExecutorPool } from '../src/actors/executor/pool';
import type { RunRequest } from '../src/actors/executor/types';
import { childMain, msSince, percentiles, runChild, writeResult, type Percentiles } from './lib';

interface Args { concurrency: number; n: number }

interface Measure {
  runsPerSec: number;
  totalMs: number;
  succeeded: number;
  /** Per run: start → result (pool) or spawn → close (direct). */
  latency: Percentiles;
}

/** `true` spawned directly with the options a plain caller would use. */
function spawnTrue(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('true', [], { stdio: 'pipe' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

/** Runs `once` N times, at most `concurrency` at a time, and times the whole. */
async function loop(a: Args, once: () => Promise<boolean>): Promise<Measure> {
  await once();
  let next = 0;
  let succeeded = 0;
  const lat: number[] = [];
  const t = process.hrtime.bigint();
  await Promise.all(Array.from({ length: a.concurrency }, async () => {
    while (next++ < a.n) {
      const t0 = process.hrtime.bigint();
      if (await once()) succeeded++;
      lat.push(msSince(t0));
    }
  }));
  const totalMs = msSince(t);
  return { runsPerSec: Math.round(a.n / (totalMs / 1000)), totalMs: Math.round(totalMs), succeeded, latency: percentiles(lat) };
}

let seq = 0;
const request = (): RunRequest => ({
  runId: `bench-${++seq}`, jobId: 'bench', attempt: 1, command: { argv: ['true'] }, module: null, cwd: null, env: {}, limits: {},
});

/** The pool, then direct spawns in the same process while the pool's threads are still up. */
async function samePid(a: Args): Promise<{ pool: Measure; direct: Measure }> {
  const pool = new ExecutorPool({ maxConcurrent: a.concurrency });
  try {
    const viaPool = await loop(a, async () => (await pool.start(request()).result).status === 'succeeded');
    const direct = await loop(a, spawnTrue);
    return { pool: viaPool, direct };
  } finally {
    await pool.close({ graceMs: 1000 });
  }
}

async function fresh(a: Args): Promise<Measure> {
  return loop(a, spawnTrue);
}

async function main(): Promise<void> {
  const flag = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const n = Number(flag('--runs') ?? 500);
  const concurrencies = (flag('--concurrency') ?? '4,16').split(',').map(Number);
  const rows: Array<Args & { pool: Measure; sameProcessSpawn: Measure; freshSpawn: Measure; ratioSame: number; ratioFresh: number }> = [];
  const table = new Table({
    style: { head: [], border: [] },
    head: ['concurrency', 'pool runs/s', 'ok', 'pool p50/p99 ms', 'spawn same process', 'spawn fresh process', 'ratio same', 'ratio fresh'],
  });
  for (const concurrency of concurrencies) {
    const args: Args = { concurrency, n };
    const same = await runChild<{ pool: Measure; direct: Measure }>(__filename, 'samePid', args);
    const top = await runChild<Measure>(__filename, 'fresh', args);
    const ratioSame = +(same.pool.runsPerSec / same.direct.runsPerSec).toFixed(2);
    const ratioFresh = +(same.pool.runsPerSec / top.runsPerSec).toFixed(2);
    rows.push({ ...args, pool: same.pool, sameProcessSpawn: same.direct, freshSpawn: top, ratioSame, ratioFresh });
    table.push([
      concurrency, same.pool.runsPerSec, `${same.pool.succeeded}/${n}`, `${same.pool.latency.p50} / ${same.pool.latency.p99}`,
      same.direct.runsPerSec, top.runsPerSec, `${ratioSame}x`, `${ratioFresh}x`,
    ]);
  }
  console.log(table.toString());
  console.log('ratio = ExecutorPool runs/s / child_process.spawn runs/s (same concurrency, same bench run)');
  console.log(`written ${writeResult('executor-spawn', { runs: n, rows })}`);
}

if (!childMain({ samePid, fresh })) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
