/**
 * The raw-spawn peers of W2 and W3-ARGV, in a file of their own that loads nothing of
 * rae-scheduler: fork() copies the page tables of the spawning process, so a peer living in a
 * process that had loaded the scheduler's library (its zod, rxjs, lmdb: ~28 MB anonymous memory
 * instead of ~6) would pay more per spawn than a small process does, and flatter rae-scheduler.
 *
 * - W2's ceiling: `concurrency` loops of `child_process.spawn('/bin/true', [], { stdio: 'pipe' })`,
 *   each awaiting `close` ({@link ceiling}); the same loops split over several such processes
 *   starting at one instant ({@link ceilingSplit}).
 * - W3-ARGV's bare spawner: one setTimeout per whole second spawning N `/bin/true`, `concurrency`
 *   at a time, a job's slot skipped while its previous process runs ({@link spawner}).
 */
import { spawn } from 'node:child_process';
import { childMain, runChild, type ChildContext } from '../harness/child';
import { sleep } from '../harness/measure';
import type { Sample } from '../harness/types';
import { LEAD_MS, overWindow, slotSample } from './w3-peers';
import { SlotTally, nextWholeSecond } from './w3-slots';

export const TRUE = '/bin/true';

/** A closed loop's size: `n` runs within `budgetMs`. */
export interface LoopArgs { n: number; budgetMs: number }
/** One process of {@link ceilingSplit}: its share of runs and loops, started at `at` (epoch ms). */
interface PartArgs extends LoopArgs { concurrency: number; at: number }

/** A closed loop's sample. */
export function loopSample(finished: number, failed: number, elapsedMs: number, n: number): Sample {
  return { metrics: { runsPerSec: finished / (elapsedMs / 1000), finished, target: n, failed, elapsedMs } };
}

/**
 * Runs `once` `n` times, `concurrency` at a time, within the budget: `concurrency` warm-up calls
 * one by one first, then (if `at` is given) waits for that instant.
 */
export async function concurrently(a: LoopArgs, once: () => Promise<boolean>, concurrency: number, at?: number): Promise<Sample> {
  for (let i = 0; i < concurrency; i++) await once();
  if (at !== undefined) await sleep(at - Date.now());
  let next = 0;
  let finished = 0;
  let failed = 0;
  const t0 = process.hrtime.bigint();
  const deadline = Date.now() + a.budgetMs;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < a.n && Date.now() < deadline) {
      if (!(await once())) failed++;
      finished++;
    }
  }));
  return loopSample(finished, failed, Number(process.hrtime.bigint() - t0) / 1e6, a.n);
}

const spawnTrue = (): Promise<boolean> => new Promise((resolve) => {
  const child = spawn(TRUE, [], { stdio: 'pipe' });
  child.on('error', () => resolve(false));
  child.on('close', (code) => resolve(code === 0));
});

async function ceiling(a: LoopArgs & { concurrency: number }): Promise<Sample> {
  return concurrently(a, spawnTrue, a.concurrency);
}

async function ceilingPart(a: PartArgs): Promise<Sample> {
  return concurrently(a, spawnTrue, a.concurrency, a.at);
}

/** The raw loop split over `procs` fresh processes, all starting at the same instant after their warm-up. */
async function ceilingSplit(a: LoopArgs & { concurrency: number; procs: number }): Promise<Sample> {
  // Every part boots and warms up first (a few seconds on a loaded machine), then they start together.
  const at = Date.now() + 5000;
  const share = (total: number, i: number): number => Math.floor(total / a.procs) + (i < total % a.procs ? 1 : 0);
  const parts = await Promise.all(Array.from({ length: a.procs }, (_, i) => runChild(__filename, 'ceilingPart', {
    n: share(a.n, i), budgetMs: a.budgetMs, concurrency: share(a.concurrency, i), at,
  } satisfies PartArgs, { timeoutMs: a.budgetMs + 60_000 })));
  const sum = (k: string): number => parts.reduce((acc, p) => acc + (p.metrics[k] ?? 0), 0);
  return loopSample(sum('finished'), sum('failed'), Math.max(...parts.map((p) => p.metrics.elapsedMs ?? 0)), a.n);
}

/** W3-ARGV's bare spawner: see the file's comment. */
async function spawner(a: { n: number; windowS: number; concurrency: number }, ctx: ChildContext): Promise<void> {
  let tally: SlotTally | null = null;
  let window: [number, number] = [0, 0];
  const inWindow = (slot: number): boolean => slot >= window[0] && slot < window[1];
  const busy = new Uint8Array(a.n);
  const ready: Array<[job: number, slot: number]> = [];
  let running = 0;
  let skipped = 0;
  let failed = 0;
  const pump = (): void => {
    while (running < a.concurrency && ready.length > 0) {
      const [job, slot] = ready.shift()!;
      running++;
      const child = spawn(TRUE, [], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.once('spawn', () => tally?.fireAt(job, slot, Date.now()));
      child.once('close', (code) => {
        if (code !== 0 && inWindow(slot)) failed++;
        running--;
        busy[job] = 0;
        pump();
      });
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const tick = (slot: number): void => {
    for (let i = 0; i < a.n; i++) {
      // overlap 'skip', as rae-scheduler's jobs: a job whose previous process runs skips this slot.
      if (busy[i] === 1) {
        if (inWindow(slot)) skipped++;
        continue;
      }
      busy[i] = 1;
      ready.push([i, slot]);
    }
    pump();
    const next = slot + 1000;
    timer = setTimeout(() => tick(next), next - Date.now());
  };
  const first = nextWholeSecond(Date.now(), 10);
  timer = setTimeout(() => tick(first), first - Date.now());
  const rssSetup = process.memoryUsage.rss();
  const t0 = nextWholeSecond(Date.now(), LEAD_MS);
  const t1 = t0 + a.windowS * 1000;
  window = [t0, t1];
  tally = new SlotTally(a.n, t0, t1);
  const { cpuPct, peakRss: peak } = await overWindow(t0, t1);
  clearTimeout(timer);
  ctx.deliver(slotSample(tally.report(), { rssMb: peak / 1048576, rssSetupMb: rssSetup / 1048576, cpuPct, skipped, missed: 0, failed }));
}

if (require.main === module) childMain({ ceiling, ceilingPart, ceilingSplit, spawner });
