/**
 * W1 thread throughput: no-op JS module jobs finished per second, end to end, run records durable.
 *
 * - rae-scheduler: one `module:` job (bench/fixtures/noop-job.ts), `runNow` in a closed loop keeping
 *   WINDOW runs outstanding, counted at `run.finished` (published after the final run record is on
 *   disk). `isolation: 'thread'` is passed when the build supports it (see rae.ts).
 * - ceiling: raw Piscina running the same file as its task, defaults (threads 1.5 × cores), the same
 *   WINDOW of tasks outstanding. Nothing that runs JS jobs on worker threads beats it.
 * - peer: Bree, the best-known worker-thread scheduler for Node, running a no-op job (a Bree job is a
 *   worker script: Bree starts one Worker per run) on CONCURRENCY job definitions, each re-run when its
 *   worker ends (Bree refuses to run a job that is still running).
 * - A/B (issue 8, "supervision must not cost the hot path"): rae-scheduler again with per-message
 *   supervision off (hang watchdogs, mailbox bounds, fault-injection check, heartbeats:
 *   InternalOptions.perMessageSupervision), interleaved with the others; the row on ÷ off is the
 *   share of the rate supervision keeps (goal ≥ 0.95).
 */
import path from 'node:path';
import type { Workload } from '../harness/runner';
import { childMain, type ChildContext } from '../harness/child';
import { ratio } from '../harness/stats';
import type { InternalOptions } from '../../src/scheduler';
import { fmtSummary } from '../harness/report';
import type { MeasurementSpec, Mode, Sample } from '../harness/types';
import { FIXTURES, NOOP_MODULE, addModuleJob, closedLoop, isolationOfThisBuild, openScheduler, warmUp } from './rae';

/**
 * Runs outstanding at once (asked, not finished): the same 1,024 for rae-scheduler with thread
 * isolation as for raw Piscina (the engine must keep as many in flight as its ceiling; concurrent
 * `runNow` calls share one message and one commit). A process per run: 64 (more only queues
 * behind the 16 processes running).
 */
const WINDOW = { thread: 1024, process: 64, piscina: 1024 };
/** rae-scheduler's maxConcurrentJobs, and Bree's number of job definitions. */
const CONCURRENCY = { thread: 256, process: 16 };
const SIZE: Record<Mode, { n: number; budgetMs: number }> = {
  quick: { n: 20_000, budgetMs: 3_000 },
  full: { n: 50_000, budgetMs: 10_000 },
};

interface Args { n: number; budgetMs: number; threads: boolean; supervision?: boolean }

function loopSample(r: { finished: number; failed: number; elapsedMs: number }, n: number, notes: string[]): Sample {
  return { metrics: { jobsPerSec: r.finished / (r.elapsedMs / 1000), finished: r.finished, target: n, failed: r.failed, elapsedMs: r.elapsedMs }, notes };
}

async function rae(a: Args, ctx: ChildContext): Promise<void> {
  // maxConcurrentJobs depends on the isolation: 256 node processes at once would need ~10 GB.
  const threads = a.threads;
  const maxConcurrentJobs = threads ? CONCURRENCY.thread : CONCURRENCY.process;
  const window = threads ? WINDOW.thread : WINDOW.process;
  const { s, close } = await openScheduler({ maxConcurrentJobs, maxQueuedJobs: window * 2,
    ...(a.supervision === false ? { perMessageSupervision: false } as Omit<InternalOptions, 'dataDir'> : {}) });
  try {
    const { isolation } = await addModuleJob(s, { name: 'noop', schedule: 'never', overlap: 'allow' });
    await warmUp(s, 'noop', threads ? 200 : 2);
    const r = await closedLoop(s, 'noop', { n: a.n, window, budgetMs: a.budgetMs });
    ctx.deliver(loopSample(r, a.n, [`isolation: ${isolation}`, `maxConcurrentJobs ${maxConcurrentJobs}, ${window} runs outstanding`]));
  } finally {
    await close();
  }
}

async function piscina(a: Args): Promise<Sample> {
  const { Piscina } = await import('piscina');
  const pool = new Piscina({ filename: NOOP_MODULE });
  try {
    const loop = (n: number, budgetMs: number): Promise<{ finished: number; failed: number; elapsedMs: number; complete: boolean }> => new Promise((resolve) => {
      let issued = 0;
      let finished = 0;
      let failed = 0;
      let over = false;
      const t0 = process.hrtime.bigint();
      const elapsed = (): number => Number(process.hrtime.bigint() - t0) / 1e6;
      const timer = setTimeout(() => { over = true; resolve({ finished, failed, elapsedMs: elapsed(), complete: false }); }, budgetMs);
      const next = (): void => {
        issued++;
        pool.run(undefined).then(() => undefined, () => { failed++; }).finally(() => {
          finished++;
          if (over) return;
          if (finished >= n) {
            clearTimeout(timer);
            resolve({ finished, failed, elapsedMs: elapsed(), complete: true });
          } else if (issued < n) next();
        });
      };
      for (let i = 0; i < Math.min(WINDOW.piscina, n); i++) next();
    });
    await loop(2000, 60_000);
    const r = await loop(a.n, a.budgetMs);
    return loopSample(r, a.n, [`threads ${pool.options.minThreads}–${pool.options.maxThreads}`]);
  } finally {
    await pool.destroy();
  }
}

async function bree(a: Args): Promise<Sample> {
  const { default: Bree } = await import('bree');
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, log: () => undefined };
  const file = path.join(FIXTURES, 'bree-noop.js');
  const c = CONCURRENCY.process;
  const b = new Bree({ root: false, logger: silent, jobs: Array.from({ length: c }, (_, i) => ({ name: `noop-${i}`, path: file })) });
  const loop = (n: number, budgetMs: number): Promise<{ finished: number; failed: number; elapsedMs: number; complete: boolean }> => new Promise((resolve) => {
    let issued = 0;
    let finished = 0;
    let over = false;
    const t0 = process.hrtime.bigint();
    const elapsed = (): number => Number(process.hrtime.bigint() - t0) / 1e6;
    const timer = setTimeout(() => { over = true; b.off('worker deleted', onDeleted); resolve({ finished, failed: 0, elapsedMs: elapsed(), complete: false }); }, budgetMs);
    const onDeleted = (name: string): void => {
      finished++;
      if (finished >= n) {
        clearTimeout(timer);
        b.off('worker deleted', onDeleted);
        resolve({ finished, failed: 0, elapsedMs: elapsed(), complete: true });
      } else if (!over && issued < n) {
        issued++;
        void b.run(name);
      }
    };
    b.on('worker deleted', onDeleted);
    for (let i = 0; i < Math.min(c, n); i++) {
      issued++;
      void b.run(`noop-${i}`);
    }
  });
  // Warm-up: Bree's own modules and the first Worker boots.
  await loop(2, 60_000);
  const r = await loop(a.n, a.budgetMs);
  await b.stop();
  return loopSample(r, a.n, [`${c} job definitions, one Worker per run`]);
}

const spec = (id: string, label: string, role: MeasurementSpec['role'], fn: string, mode: Mode, threads: boolean, supervision = true): MeasurementSpec => ({
  id: `W1.${id}`, label, role, file: __filename, fn, args: { ...SIZE[mode], threads, supervision }, timeoutMs: SIZE[mode].budgetMs + 120_000,
});

/** W1 as the harness runs it. */
export const w1: Workload = {
  id: 'W1',
  title: 'thread throughput: no-op JS module jobs finished per second, end to end',
  run: async (ctx) => {
    const iso = await ctx.shared('isolation', isolationOfThisBuild);
    ctx.info(iso.text);
    await ctx.interleave([
      spec('rae', 'rae-scheduler, no-op module jobs', 'rae', 'rae', ctx.mode, iso.threads),
      spec('piscina', 'raw Piscina, same no-op task', 'ceiling', 'piscina', ctx.mode, iso.threads),
      spec('bree', 'Bree, no-op job', 'peer', 'bree', ctx.mode, iso.threads),
      spec('rae-bare', 'rae-scheduler, per-message supervision off (A/B)', 'diagnostic', 'rae', ctx.mode, iso.threads, false),
    ], ctx.reps({ quick: 2, full: 5 }));
  },
  evaluate: (r) => {
    const rae = r.m('W1.rae', 'jobsPerSec');
    const pis = r.m('W1.piscina', 'jobsPerSec');
    const bree = r.m('W1.bree', 'jobsPerSec');
    const bare = r.m('W1.rae-bare', 'jobsPerSec');
    const kept = ratio(rae, bare);
    const vsPiscina = ratio(rae, pis);
    const note = [...(r.get('W1.rae')?.notes ?? []), r.budgetNote('W1.rae'), r.budgetNote('W1.bree', 'Bree')].filter((x) => x !== null).join('; ');
    const raeText = fmtSummary(r.s('W1.rae', 'jobsPerSec'), 'jobs/s');
    const met = rae !== null && vsPiscina !== null ? rae >= 20_000 && vsPiscina >= 0.7 : false;
    return {
      rows: [
        { workload: 'W1', what: 'no-op module jobs/s vs raw Piscina (ceiling)', rae: raeText, beside: fmtSummary(r.s('W1.piscina', 'jobsPerSec'), 'jobs/s'), ratio: vsPiscina, goal: '≥ 20,000 jobs/s and ≥ 0.7x', met, note: note || undefined },
        { workload: 'W1', what: 'no-op module jobs/s vs Bree (peer)', rae: raeText, beside: fmtSummary(r.s('W1.bree', 'jobsPerSec'), 'jobs/s'), ratio: ratio(rae, bree), goal: null, met: null },
        { workload: 'W1', what: 'supervision cost: jobs/s with vs without per-message supervision (A/B)', rae: raeText, beside: fmtSummary(r.s('W1.rae-bare', 'jobsPerSec'), 'jobs/s'),
          ratio: kept, goal: '≥ 0.95x', met: kept === null ? false : kept >= 0.95 },
      ],
      headline: [
        { label: 'W1 module jobs/s ÷ raw Piscina', value: vsPiscina, goal: 0.7, met },
        { label: 'W1 module jobs/s ÷ Bree', value: ratio(rae, bree), goal: null, met: null },
      ],
    };
  },
};

if (require.main === module) childMain({ rae, piscina, bree });
