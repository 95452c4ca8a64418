/**
 * W2 process throughput: `/bin/true` argv jobs finished per second, end to end.
 *
 * - rae-scheduler: one job `{ argv: ['/bin/true'] }`, overlap `allow`, maxConcurrentJobs
 *   CONCURRENCY, `runNow` in a closed loop keeping WINDOW runs outstanding, counted at
 *   `run.finished` (final record on disk).
 * - ceiling: a raw `child_process.spawn('/bin/true')` loop at the same concurrency in a small fresh
 *   process (raw-spawn.ts: nothing of rae-scheduler loaded), waiting for each child's `close`.
 *   Nothing that spawns a process per run from one process beats it.
 * - diagnostic: the same raw loop split over as many processes as rae-scheduler starts run hosts
 *   (`ExecutorPool.defaultHosts()`, one per core here), the concurrency shared between them — a
 *   spawn blocks its process's one thread for the fork and the child's exec, so this is the ceiling
 *   of that many spawning processes, the fair peer of several run hosts.
 * - diagnostic (full runs): the executor pool alone (internal `ExecutorPool`, no scheduler, no store)
 *   at the same concurrency — where the time goes between the two.
 */
import type { Workload } from '../harness/runner';
import { childMain, runChild, type ChildContext } from '../harness/child';
import { ratio } from '../harness/stats';
import { fmtSummary } from '../harness/report';
import type { MeasurementSpec, Mode, Row, Sample } from '../harness/types';
import { closedLoop, openScheduler, warmUp } from './rae';
import { TRUE, concurrently, loopSample, type LoopArgs as Args } from './raw-spawn';

const CONCURRENCY = 16;
const WINDOW = 64;
const SIZE: Record<Mode, { n: number; budgetMs: number }> = {
  quick: { n: 200, budgetMs: 5_000 },
  full: { n: 800, budgetMs: 15_000 },
};
/** The raw-spawn peers' file (small: it loads nothing of rae-scheduler). */
const RAW = require.resolve('./raw-spawn');

async function rae(a: Args, ctx: ChildContext): Promise<void> {
  const { s, close } = await openScheduler({ maxConcurrentJobs: CONCURRENCY, maxQueuedJobs: WINDOW * 4 });
  try {
    await s.addJob({ name: 'true', schedule: 'never', overlap: 'allow', command: { argv: [TRUE] } });
    await warmUp(s, 'true', CONCURRENCY);
    const r = await closedLoop(s, 'true', { n: a.n, window: WINDOW, budgetMs: a.budgetMs });
    ctx.deliver(loopSample(r.finished, r.failed, r.elapsedMs, a.n));
  } finally {
    await close();
  }
}

async function executorPool(a: Args): Promise<Sample> {
  const { ExecutorPool } = await import('../../src/actors/executor/pool');
  const pool = new ExecutorPool({ maxConcurrent: CONCURRENCY });
  let seq = 0;
  try {
    return await concurrently(a, async () => {
      const run = pool.start({ runId: `bench-${++seq}`, jobId: 'bench', attempt: 1, command: { argv: [TRUE] }, module: null, cwd: null, env: {}, limits: {} });
      return (await run.result).status === 'succeeded';
    }, CONCURRENCY);
  } finally {
    await pool.close({ graceMs: 1000 });
  }
}

const spec = (id: string, label: string, role: MeasurementSpec['role'], fn: string, mode: Mode, file = __filename, args: object = {}): MeasurementSpec => ({
  id: `W2.${id}`, label, role, file, fn, args: { ...SIZE[mode], ...args }, timeoutMs: SIZE[mode].budgetMs + 120_000,
});

/** W2 as the harness runs it. */
export const w2: Workload = {
  id: 'W2',
  title: `process throughput: ${TRUE} argv jobs finished per second, concurrency ${CONCURRENCY}`,
  run: async (ctx) => {
    const procs = await ctx.shared('W2.procs', () => runChild(__filename, 'hosts', null, { timeoutMs: 60_000 }).then((s) => s.metrics.procs!));
    const specs = [
      spec('rae', `rae-scheduler, ${TRUE} argv jobs`, 'rae', 'rae', ctx.mode),
      spec('spawn', `raw child_process.spawn loop, concurrency ${CONCURRENCY}`, 'ceiling', 'ceiling', ctx.mode, RAW, { concurrency: CONCURRENCY }),
    ];
    if (procs > 1) {
      specs.push(spec('split', `raw spawn loop split over ${procs} processes (as many as run hosts), concurrency ${CONCURRENCY} in all`, 'diagnostic', 'ceilingSplit', ctx.mode, RAW, { concurrency: CONCURRENCY, procs }));
    }
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
    if (r.get('W2.split') !== undefined) {
      const procs = (r.get('W2.split')!.args as { procs: number }).procs;
      rows.push({
        workload: 'W2', what: `${TRUE} argv jobs/s vs the raw loop split over ${procs} processes (diagnostic: rae-scheduler spawns from ${procs} run hosts)`,
        rae: fmtSummary(r.s('W2.rae', 'runsPerSec'), 'runs/s'), beside: fmtSummary(r.s('W2.split', 'runsPerSec'), 'runs/s'),
        ratio: ratio(r.m('W2.rae', 'runsPerSec'), r.m('W2.split', 'runsPerSec')), goal: null, met: null,
        note: r.budgetNote('W2.split', 'split loop') ?? undefined,
      });
    }
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

/** The number of run hosts of this build, in a child (the harness's parent never loads the scheduler). */
async function hosts(): Promise<Sample> {
  const { ExecutorPool } = await import('../../src/actors/executor/pool');
  return { metrics: { procs: ExecutorPool.defaultHosts() } };
}

if (require.main === module) childMain({ rae, executorPool, hosts });
