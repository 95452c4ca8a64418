/**
 * The executor alone on no-op JS module jobs in worker threads (issue 7, W1 at the executor):
 * N runs of a module `module.exports = () => {}` through {@link ExecutorPool} with
 * `isolation: 'thread'`, at most C in flight, against **raw Piscina** running the same module
 * function as its task (a worker file that requires the module and calls it), same number of
 * threads, same C in flight, in the same bench run. Each workload runs in a fresh process, several
 * rounds alternating (pool, raw, pool, raw, ...), and the best of each is kept (the machine is
 * shared); every round's own ratio is printed too, to show the noise.
 *
 * What is left between the two is the executor's own work per run: the RunRequest → thread request,
 * batching, the module cache check (one stat per run), the AsyncLocalStorage context, the output
 * ring, the result object, and the RunHandle bookkeeping.
 *
 * Run: `npm run bench:executor-module [-- --runs 200000 --inflight 1024 --threads 2 --rounds 3]`
 * Prints one JSON document on stdout (a table on stderr) and writes bench/results/executor-module.json.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Table from 'cli-table3';
import { Piscina } from 'piscina';
import { ExecutorPool } from '../src/actors/executor/pool';
import type { RunRequest } from '../src/actors/executor/types';
import { childMain, msSince, runChild, writeResult } from './lib';

interface Args { n: number; inflight: number; threads: number; dir: string }
interface Measure {
  runsPerSec: number;
  totalMs: number;
  succeeded: number;
  /** CPU of the whole process (main + worker threads) per run, µs: steadier than runs/s on a shared machine. */
  cpuUsPerRun: number;
}

/** `inflight` loops, each starting the next run when its previous one finished. */
async function loop(a: Args, once: (i: number) => Promise<boolean>): Promise<Measure> {
  // Warm-up: threads booted, module imported in each.
  await Promise.all(Array.from({ length: Math.min(a.inflight, 2000) }, (_, i) => once(i)));
  let next = 0;
  let succeeded = 0;
  const t = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: a.inflight }, async () => {
    while (next < a.n) {
      const i = next++;
      if (await once(i)) succeeded++;
    }
  }));
  const totalMs = msSince(t);
  const cpu = process.cpuUsage(cpu0);
  return {
    runsPerSec: Math.round(a.n / (totalMs / 1000)), totalMs: Math.round(totalMs), succeeded,
    cpuUsPerRun: +((cpu.user + cpu.system) / a.n).toFixed(2),
  };
}

async function viaPool(a: Args): Promise<Measure> {
  const pool = new ExecutorPool({ maxConcurrent: a.inflight, moduleThreads: a.threads, maxModuleThreads: a.threads });
  const module = path.join(a.dir, 'noop.js');
  const base: Omit<RunRequest, 'runId'> = {
    jobId: 'bench', jobName: 'bench', attempt: 1, command: null, module, isolation: 'thread', cwd: null, env: {}, limits: {},
  };
  try {
    return await loop(a, async (i) => (await pool.start({ ...base, runId: `run-${i}` }).result).status === 'succeeded');
  } finally {
    await pool.close({ graceMs: 1000 });
  }
}

async function rawPiscina(a: Args): Promise<Measure> {
  const piscina = new Piscina({
    filename: path.join(a.dir, 'raw-worker.js'), minThreads: a.threads, maxThreads: a.threads,
    concurrentTasksPerWorker: Math.ceil(a.inflight / a.threads),
  });
  try {
    return await loop(a, async (i) => (await piscina.run({ runId: `run-${i}` })) === undefined);
  } finally {
    await piscina.destroy();
  }
}

async function main(): Promise<void> {
  const flag = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const n = Number(flag('--runs') ?? 200_000);
  const inflight = Number(flag('--inflight') ?? 1024);
  const threads = Number(flag('--threads') ?? 2);
  const rounds = Number(flag('--rounds') ?? 3);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rae-bench-mod-'));
  writeFileSync(path.join(dir, 'noop.js'), 'module.exports = () => {};\n');
  writeFileSync(path.join(dir, 'raw-worker.js'),
    `const noop = require(${JSON.stringify(path.join(dir, 'noop.js'))});\nmodule.exports = (task) => noop(task);\n`);
  const args: Args = { n, inflight, threads, dir };
  try {
    const pools: Measure[] = [];
    const raws: Measure[] = [];
    for (let round = 0; round < rounds; round++) {
      pools.push(await runChild<Measure>(__filename, 'viaPool', args));
      raws.push(await runChild<Measure>(__filename, 'rawPiscina', args));
    }
    const best = (ms: Measure[]) => ms.reduce((b, m) => (m.runsPerSec > b.runsPerSec ? m : b));
    const pool = best(pools);
    const raw = best(raws);
    const ratio = +(pool.runsPerSec / raw.runsPerSec).toFixed(2);
    const table = new Table({ style: { head: [], border: [] }, head: ['', `runs/s (best of ${rounds})`, 'rounds', 'CPU µs/run (rounds)', 'ok'] });
    const cpus = (ms: Measure[]) => ms.map((m) => m.cpuUsPerRun).join(' / ');
    table.push(['ExecutorPool, thread modules', pool.runsPerSec, pools.map((m) => m.runsPerSec).join(' / '), cpus(pools), `${pool.succeeded}/${n}`]);
    table.push(['raw Piscina, same function', raw.runsPerSec, raws.map((m) => m.runsPerSec).join(' / '), cpus(raws), `${raw.succeeded}/${n}`]);
    process.stderr.write(`${table.toString()}\nratio = pool / raw Piscina: ${ratio}x (${threads} threads, ${inflight} in flight, ${n} runs)\n`);
    // The ratio of the best rounds, and each round's ratio to its neighbour (what the noise spans).
    const roundRatios = pools.map((m, i) => +(m.runsPerSec / raws[i]!.runsPerSec).toFixed(2));
    process.stderr.write(`per-round ratios: ${roundRatios.join(', ')}\n`);
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const cpuRatio = +(median(raws.map((m) => m.cpuUsPerRun)) / median(pools.map((m) => m.cpuUsPerRun))).toFixed(2);
    process.stderr.write(`CPU per run, raw Piscina / pool (medians): ${cpuRatio}x (above 1: the pool spends less CPU per run)\n`);
    const body = { runs: n, inflight, threads, pool, raw, poolRounds: pools, rawRounds: raws, ratio, roundRatios, cpuRatio };
    const file = writeResult('executor-module', body);
    process.stderr.write(`written ${file}\n`);
    process.stdout.write(`${JSON.stringify({ benchmark: 'executor-module', ...body })}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!childMain({ viaPool, rawPiscina })) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
