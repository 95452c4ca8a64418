/**
 * W5 durability: what "acknowledged means on disk" costs.
 *
 * - `addJob` round trips per second, one caller awaiting each (sequential), and CALLERS concurrent
 *   callers each awaiting its own: the job is on disk when addJob resolves.
 * - run records per second while jobs fire: a closed loop of `runNow` (WINDOW outstanding) on the
 *   cheapest job this build runs (a no-op module in a worker thread when supported, else
 *   `/bin/true`), counted at `run.finished` (the final run record is on disk by then).
 * - ceilings, raw lmdb (same package, same environment flags as the store) in a fresh process:
 *   one awaited `put` + `flushed` at a time; CALLERS concurrent callers doing the same (lmdb batches
 *   the writes of one event turn into one commit); and flushed batches of BATCH run-sized records
 *   (one transaction, then `flushed`) — what durable records per second can be at best.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { childMain, type ChildContext } from '../harness/child';
import { fmtSummary } from '../harness/report';
import { ratio } from '../harness/stats';
import type { Workload } from '../harness/runner';
import type { MeasurementSpec, Mode, Sample } from '../harness/types';
import { addModuleJob, closedLoop, openScheduler, warmUp } from './rae';

const CALLERS = 16;
/** Runs outstanding in the run-record loop (4 × maxConcurrentJobs of W2: more only queues). */
const WINDOW = 64;
const BATCH = 100;
const SIZE: Record<Mode, { seq: number; conc: number; runs: number; budgetMs: number }> = {
  quick: { seq: 100, conc: 300, runs: 5000, budgetMs: 2500 },
  full: { seq: 300, conc: 1000, runs: 50_000, budgetMs: 8000 },
};
type Args = (typeof SIZE)[Mode];

/** `count` operations by `callers` concurrent loops, each awaiting its own; stops at the budget. */
async function callers(count: number, callersN: number, budgetMs: number, op: (i: number) => Promise<unknown>): Promise<{ perSec: number; done: number }> {
  let next = 0;
  let done = 0;
  const t0 = process.hrtime.bigint();
  const deadline = Date.now() + budgetMs;
  await Promise.all(Array.from({ length: callersN }, async () => {
    while (Date.now() < deadline) {
      const i = next++;
      if (i >= count) return;
      await op(i);
      done++;
    }
  }));
  return { perSec: done / (Number(process.hrtime.bigint() - t0) / 1e9), done };
}

async function rae(a: Args, ctx: ChildContext): Promise<void> {
  const notes: string[] = [];
  const { s, close } = await openScheduler({ maxConcurrentJobs: 16, maxQueuedJobs: WINDOW * 4 });
  try {
    const job = (i: number, tag: string) => ({ name: `${tag}-${i}`, schedule: 'every 6 hours', timezone: 'UTC', command: { argv: ['/bin/true'] } });
    await callers(5, 1, 60_000, (i) => s.addJob(job(i, 'warm')));
    const seq = await callers(a.seq, 1, a.budgetMs, (i) => s.addJob(job(i, 'seq')));
    const conc = await callers(a.conc, CALLERS, a.budgetMs, (i) => s.addJob(job(i, 'conc')));
    // The cheapest job this build runs: a module in a thread if supported, else /bin/true.
    const mod = await addModuleJob(s, { name: 'noop-module', schedule: 'never', overlap: 'allow' });
    const name = mod.isolation === 'thread' ? 'noop-module' : 'true';
    if (name === 'true') await s.addJob({ name: 'true', schedule: 'never', overlap: 'allow', command: { argv: ['/bin/true'] } });
    notes.push(`run records: ${name === 'true' ? '/bin/true argv job (no thread isolation for modules in this build)' : 'no-op module job in a thread'}`);
    await warmUp(s, name, 8);
    const runs = await closedLoop(s, name, { n: a.runs, window: WINDOW, budgetMs: a.budgetMs });
    ctx.deliver({
      metrics: { addJobSeqPerSec: seq.perSec, addJobConcPerSec: conc.perSec, runRecordsPerSec: runs.finished / (runs.elapsedMs / 1000), runsFailed: runs.failed,
        seqDone: seq.done, concDone: conc.done },
      notes,
    });
  } finally {
    await close();
  }
}

async function lmdbRaw(a: Args): Promise<Sample> {
  const { open } = await import('lmdb');
  const { envOptions } = await import('../../src/actors/persistence/tables');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rae-bench-lmdb-'));
  const env = open(path.join(dir, 'store'), envOptions(false));
  const db = env.openDB<Record<string, unknown>, string>('bench', {});
  // A record the size of a stored job / run (ids, ISO dates, a command, a status).
  const record = (i: number) => ({
    id: `run_${String(i).padStart(22, '0')}`, jobId: 'job_01m8c3s96btqrfhkw4s884', status: 'succeeded', trigger: 'schedule', attempt: 1,
    scheduledAt: new Date().toISOString(), startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(),
    exitCode: 0, signal: null, durationMs: 3, output: '', error: null,
  });
  let k = 0;
  const put = async (): Promise<void> => {
    const i = k++;
    await db.put(`k${i}`, record(i));
    await env.flushed;
  };
  try {
    await callers(20, 1, 60_000, put);
    const seq = await callers(a.seq * 3, 1, a.budgetMs, put);
    const conc = await callers(a.conc * 3, CALLERS, a.budgetMs, put);
    let written = 0;
    const t0 = process.hrtime.bigint();
    const deadline = Date.now() + a.budgetMs;
    while (written < a.runs && Date.now() < deadline) {
      await env.transaction(() => {
        for (let j = 0; j < BATCH; j++) {
          const i = k++;
          void db.put(`k${i}`, record(i));
        }
      });
      await env.flushed;
      written += BATCH;
    }
    const batchPerSec = written / (Number(process.hrtime.bigint() - t0) / 1e9);
    return { metrics: { putSeqPerSec: seq.perSec, putConcPerSec: conc.perSec, batchRecordsPerSec: batchPerSec } };
  } finally {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const spec = (id: string, label: string, role: MeasurementSpec['role'], fn: string, mode: Mode): MeasurementSpec => ({
  id: `W5.${id}`, label, role, file: __filename, fn, args: SIZE[mode], timeoutMs: SIZE[mode].budgetMs * 3 + 120_000,
});

/** W5 as the harness runs it. */
export const w5: Workload = {
  id: 'W5',
  title: 'durability: durable addJob round trips and run records per second vs raw lmdb',
  run: async (ctx) => {
    await ctx.interleave([
      spec('rae', 'rae-scheduler addJob and run records', 'rae', 'rae', ctx.mode),
      spec('lmdb', 'raw lmdb: awaited put + flushed, flushed batches', 'ceiling', 'lmdbRaw', ctx.mode),
    ], ctx.reps({ quick: 2, full: 5 }));
  },
  evaluate: (r, mode) => {
    const row = (what: string, raeMetric: string, lmdbMetric: string, unit: string, beside: string) => ({
      workload: 'W5', what, rae: fmtSummary(r.s('W5.rae', raeMetric), unit), beside: `${beside} ${fmtSummary(r.s('W5.lmdb', lmdbMetric), unit)}`,
      ratio: ratio(r.m('W5.rae', raeMetric), r.m('W5.lmdb', lmdbMetric)), goal: null, met: null,
    });
    // Runs that stopped at the time budget before their size: the rate is over what they reached.
    const short = (metric: string, size: number): string | undefined => {
      const done = r.get('W5.rae')?.samples.map((x) => x.metrics[metric] ?? 0).filter((d) => d < size) ?? [];
      return done.length > 0 ? `reached ${Math.min(...done)}–${Math.max(...done)} of ${size} calls within the budget in ${done.length} repetitions (rate over what it reached)` : undefined;
    };
    const size = SIZE[mode];
    const rows = [
      { ...row('durable addJob/s, 1 caller', 'addJobSeqPerSec', 'putSeqPerSec', '/s', 'lmdb awaited put, 1 caller'), note: short('seqDone', size.seq) },
      { ...row(`durable addJob/s, ${CALLERS} concurrent callers`, 'addJobConcPerSec', 'putConcPerSec', '/s', `lmdb awaited put, ${CALLERS} callers`), note: short('concDone', size.conc) },
      { ...row('run records/s while runs fire', 'runRecordsPerSec', 'batchRecordsPerSec', '/s', `lmdb flushed batches of ${BATCH}`), note: r.get('W5.rae')?.notes.join('; ') || undefined },
    ];
    return {
      rows,
      headline: [
        { label: 'W5 addJob/s ÷ lmdb awaited put', value: rows[0]!.ratio, goal: null, met: null },
        { label: 'W5 run records/s ÷ lmdb batches', value: rows[2]!.ratio, goal: null, met: null },
      ],
    };
  },
};

if (require.main === module) childMain({ rae, lmdbRaw });
