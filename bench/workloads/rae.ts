/**
 * rae-scheduler as the workloads drive it: through the public library API only (`createScheduler`
 * from dist/src/index.js, a real LMDB store in a temp dir), plus the closed loop that keeps a fixed
 * number of runs outstanding.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { filter } from 'rxjs';
import { createScheduler, type Job, type JobSpec, type Scheduler, type SchedulerOptions } from '../../src';
import { childMain, runChild } from '../harness/child';
import type { Sample } from '../harness/types';

/** Built fixtures (dist/bench/fixtures). */
export const FIXTURES = path.join(__dirname, '..', 'fixtures');
/** The no-op job module (default export: an async function that does nothing). */
export const NOOP_MODULE = path.join(FIXTURES, 'noop-job.js');

/** Longest a bench child waits for `shutdown` before it gives up (it exits right after anyway). */
const SHUTDOWN_WAIT_MS = 5_000;

/**
 * A scheduler on a fresh temp data dir (or `dataDir`). `close` shuts it down — waiting at most
 * SHUTDOWN_WAIT_MS: a scheduler left far behind by a workload may take long to drain, and the figures
 * are already delivered by then — and removes a temp dir; it resolves false when shutdown did not finish.
 */
export async function openScheduler(opts: Omit<SchedulerOptions, 'dataDir'>, dataDir?: string): Promise<{ s: Scheduler; dataDir: string; close(): Promise<boolean> }> {
  const dir = dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'rae-bench-'));
  const s = await createScheduler({ dataDir: dir, ...opts });
  return {
    s,
    dataDir: dir,
    close: async () => {
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          // No grace: runs still going are interrupted at once (the figures are in by now).
          s.shutdown({ graceMs: 0 }).then(() => true),
          new Promise<boolean>((r) => { timer = setTimeout(() => r(false), SHUTDOWN_WAIT_MS); }),
        ]);
      } finally {
        clearTimeout(timer);
        if (dataDir === undefined) rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Adds a no-op module job, in a worker thread when this build supports it: the job spec may have an
 * `isolation: 'thread' | 'process'` option (being added to run JS modules in Piscina threads). If
 * the spec refuses the key, the job is added without it (today: a child process per run), and the
 * answer says so — the figure is printed either way, never skipped.
 */
export async function addModuleJob(s: Scheduler, spec: Omit<JobSpec, 'module' | 'command'>): Promise<{ job: Job; isolation: string }> {
  try {
    const job = await s.addJob({ ...spec, module: NOOP_MODULE, isolation: 'thread' } as JobSpec);
    const stored = (job as Job & { isolation?: string }).isolation;
    return { job, isolation: stored ?? 'thread' };
  } catch (err) {
    const e = err as { code?: string; message?: string; field?: string };
    if (e.code !== 'VALIDATION' || !`${e.message} ${e.field}`.includes('isolation')) throw err;
    const job = await s.addJob({ ...spec, module: NOOP_MODULE });
    return { job, isolation: 'process (this build has no isolation option: a child process per run)' };
  }
}

/** Outcome of {@link closedLoop}. */
export interface LoopResult {
  finished: number;
  failed: number;
  refused: number;
  elapsedMs: number;
  /** All `n` runs finished within the budget. */
  complete: boolean;
}

/**
 * Runs job `name` `n` times through `runNow`, keeping `window` runs outstanding (asked, not yet
 * finished): each `run.finished` asks for the next. A run counts when its `run.finished` arrives,
 * which the scheduler publishes after the run's final record is written to disk. Stops asking at
 * `budgetMs` and reports what it reached.
 */
export function closedLoop(s: Scheduler, name: string, o: { n: number; window: number; budgetMs: number }): Promise<LoopResult> {
  return new Promise((resolve) => {
    let issued = 0;
    let finished = 0;
    let failed = 0;
    let refused = 0;
    let over = false;
    const t0 = process.hrtime.bigint();
    const elapsed = (): number => Number(process.hrtime.bigint() - t0) / 1e6;
    const end = (): void => {
      clearTimeout(timer);
      sub.unsubscribe();
      resolve({ finished, failed, refused, elapsedMs: elapsed(), complete: finished >= o.n });
    };
    const ask = (): void => {
      issued++;
      s.runNow(name).catch(() => {
        refused++;
        issued--;
        // Back off a little and try again: the queue was full or the scheduler busy.
        if (!over) setTimeout(ask, 5);
      });
    };
    const sub = s.events$.pipe(filter((e) => e.type === 'run.finished')).subscribe((e) => {
      if (e.type !== 'run.finished') return;
      finished++;
      if (e.run.status !== 'succeeded') failed++;
      if (finished >= o.n || (over && finished >= issued)) end();
      else if (!over && issued < o.n) ask();
    });
    const timer = setTimeout(() => {
      over = true;
      end();
    }, o.budgetMs);
    for (let i = 0; i < Math.min(o.window, o.n); i++) ask();
  });
}

/** Finishes `k` runs of job `name` before timing (threads, pools and JIT warm). */
export async function warmUp(s: Scheduler, name: string, k: number): Promise<void> {
  await closedLoop(s, name, { n: k, window: k, budgetMs: 60_000 });
}

/** How this build runs JS module jobs, found out once per bench run (in a child, like everything). */
export interface Isolation {
  /** Module runs in worker threads (`isolation: 'thread'` accepted). */
  threads: boolean;
  /** What the results say about it. */
  text: string;
}

async function detectIsolation(): Promise<Sample> {
  const probe = await openScheduler({ maxConcurrentJobs: 1 });
  try {
    const { isolation } = await addModuleJob(probe.s, { name: 'probe', schedule: 'never' });
    return { metrics: { threads: isolation === 'thread' ? 1 : 0 }, notes: [`isolation: ${isolation}`] };
  } finally {
    await probe.close();
  }
}

/** Runs {@link detectIsolation} in a fresh child (the parent never loads the scheduler itself). */
export async function isolationOfThisBuild(): Promise<Isolation> {
  const s = await runChild(__filename, 'detectIsolation', null, { timeoutMs: 120_000 });
  return { threads: s.metrics.threads === 1, text: s.notes?.[0] ?? 'isolation: unknown' };
}

if (require.main === module) childMain({ detectIsolation });
