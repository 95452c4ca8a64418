/**
 * W2 process throughput: `/bin/true` argv jobs finished per second, end to end.
 *
 * - rae-scheduler: one job `{ argv: ['/bin/true'] }`, overlap `allow`, maxConcurrentJobs
 *   CONCURRENCY, `runNow` in a closed loop keeping WINDOW runs outstanding, counted at
 *   `run.finished` (final record on disk).
 * - ceiling: a raw `child_process.spawn('/bin/true')` loop at the same concurrency in a small fresh
 *   process, waiting for each child's `close`. Nothing that spawns a process per run beats it.
 * - diagnostic (full runs): the executor pool alone (internal `ExecutorPool`, no scheduler, no store)
 *   at the same concurrency — where the time goes between the two.
 */
import { spawn } from 'node:child_process';
import type { Workload } from '../harness/runner';
import { childMain, type ChildContext } from '../harness/child';
import { ratio } from '../harness/stats';
import { fmtSummary } from '../harness/report';
import type { MeasurementSpec, Mode, Row, Sample } from '../harness/types';
import { closedLoop, openScheduler, warmUp } from './rae';

const CONCURRENCY = 16;
const WINDOW = 64;
const SIZE: Record<Mode, { n: number; budgetMs: number }> = {
  quick: { n: 200, budgetMs: 5_000 },
  full: { n: 800, budgetMs: 15_000 },
};
const TRUE = '/bin/true';

interface Args { n: number; budgetMs: number }

function sample(finished: number, failed: number, elapsedMs: number, n: number): Sample {
  return { metrics: { runsPerSec: finished / (elapsedMs / 1000), finished, target: n, failed, elapsedMs } };
}

async function rae(a: Args, ctx: ChildContext): Promise<void> {
  const { s, close } = await openScheduler({ maxConcurrentJobs: CONCURRENCY, maxQueuedJobs: WINDOW * 4 });
  try {
    await s.addJob({ name: 'true', schedule: 'never', overlap: 'allow', command: { argv: [TRUE] } });
    await warmUp(s, 'true', CONCURRENCY);
    const r = await closedLoop(s, 'true', { n: a.n, window: WINDOW, budgetMs: a.budgetMs });
    ctx.deliver(sample(r.finished, r.failed, r.elapsedMs, a.n));
  } finally {
    await close();
  }
}

/** Runs `once` n times, `CONCURRENCY` at a time, within the budget. */
async function concurrently(a: Args, once: () => Promise<boolean>): Promise<Sample> {
  for (let i = 0; i < CONCURRENCY; i++) await once();
  let next = 0;
  let finished = 0;
  let failed = 0;
  const t0 = process.hrtime.bigint();
  const deadline = Date.now() + a.budgetMs;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next++ < a.n && Date.now() < deadline) {
      if (!(await once())) failed++;
      finished++;
    }
  }));
  return sample(finished, failed, Number(process.hrtime.bigint() - t0) / 1e6, a.n);
}

const spawnTrue = (): Promise<boolean> => new Promise((resolve) => {
  const child = spawn(TRUE, [], { stdio: 'pipe' });
  child.on('error', () => resolve(false));
  child.on('close', (code) => resolve(code === 0));
});

async function ceiling(a: Args): Promise<Sample> {
  return concurrently(a, spawnTrue);
}

async function executorPool(a: Args): Promise<Sample> {
  const { ExecutorPool } = await import('../../src/actors/executor/pool');
  const pool = new ExecutorPool({ maxConcurrent: CONCURRENCY });
  let seq = 0;
  try {
    return await concurrently(a, async () => {
      const run = pool.start({ runId: `bench-${++seq}`, jobId: 'bench', attempt: 1, command: { argv: [TRUE] }, module: null, cwd: null, env: {}, limits: {} });
      return (await run.result).status === 'succeeded';
    });
  } finally {
    await pool.close({ graceMs: 1000 });
  }
}

const spec = (id: string, label: string, role: MeasurementSpec['role'], fn: string, mode: Mode): MeasurementSpec => ({
  id: `W2.${id}`, label, role, file: __filename, fn, args: SIZE[mode], timeoutMs: SIZE[mode].budgetMs + 120_000,
});

/** W2 as the harness runs it. */
export const w2: Workload = {
  id: 'W2',
  title: `process throughput: ${TRUE} argv jobs finished per second, concurrency ${CONCURRENCY}`,
  run: async (ctx) => {
    const specs = [
      spec('rae', `rae-scheduler, ${TRUE} argv jobs`, 'rae', 'rae', ctx.mode),
      spec('spawn', `raw child_process.spawn loop, concurrency ${CONCURRENCY}`, 'ceiling', 'ceiling', ctx.mode),
    ];
    if (ctx.mode === 'full') specs.push(spec('executor', 'executor pool alone (internal, no scheduler or store)', 'diagnostic', 'executorPool', ctx.mode));
    await ctx.interleave(specs, ctx.reps({ quick: 2, full: 5 }));
  },
  evaluate: (r) => {
    const v = ratio(r.m('W2.rae', 'runsPerSec'), r.m('W2.spawn', 'runsPerSec'));
    const met = v !== null && v >= 0.85;
    const rows: Row[] = [{
      workload: 'W2', what: `${TRUE} argv jobs/s vs raw spawn loop (ceiling)`,
      rae: fmtSummary(r.s('W2.rae', 'runsPerSec'), 'runs/s'), beside: fmtSummary(r.s('W2.spawn', 'runsPerSec'), 'runs/s'),
      ratio: v, goal: '≥ 0.85x', met, note: [r.budgetNote('W2.rae'), r.budgetNote('W2.spawn', 'spawn loop')].filter((x) => x !== null).join('; ') || undefined,
    }];
    if (r.get('W2.executor') !== undefined) {
      rows.push({
        workload: 'W2', what: 'executor pool alone vs raw spawn loop (diagnostic)',
        rae: fmtSummary(r.s('W2.executor', 'runsPerSec'), 'runs/s'), beside: fmtSummary(r.s('W2.spawn', 'runsPerSec'), 'runs/s'),
        ratio: ratio(r.m('W2.executor', 'runsPerSec'), r.m('W2.spawn', 'runsPerSec')), goal: null, met: null,
      });
    }
    return { rows, headline: [{ label: 'W2 argv jobs/s ÷ raw spawn', value: v, goal: 0.85, met }] };
  },
};

if (require.main === module) childMain({ rae, ceiling, executorPool });
