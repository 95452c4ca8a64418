/**
 * W3's set-up, shared by its module case (w3-precision.ts) and its argv case (w3-argv.ts): N jobs
 * on `every 1s`, all due on the same whole second, loaded on an offline scheduler by `restore()` of
 * a backup document made from ONE job added with `addJob` (10,000 jobs in seconds; W5 measures
 * addJob itself), then opened by an active scheduler on the same store.
 */
import { rmSync } from 'node:fs';
import type { Job, Scheduler, SchedulerOptions } from '../../src';
import { fmt } from '../harness/report';
import { openScheduler } from './rae';
import { nextWholeSecond } from './w3-slots';

/** The template job's spec without its program (the caller adds the module or the argv). */
export const TEMPLATE = { name: 'template', schedule: 'never', catchUp: 'none' as const };

/** N per-second jobs running on an active scheduler. */
export interface EverySecond {
  s: Scheduler;
  jobs: Job[];
  /** The jobs' `createdAt` (epoch ms, a whole second): their first slot. */
  created: number;
  loadMs: number;
  /** Shuts the scheduler down (bounded) and removes the store. */
  close(): Promise<void>;
}

/**
 * Loads `n` copies of the job `addTemplate` adds (to an offline scheduler, from {@link TEMPLATE}),
 * all `every 1s` and created on the same whole second AFTER the expected set-up time — `every 1s`
 * is anchored there, so every job is due on whole seconds and none has slots to miss while the
 * store is loaded — then starts an active scheduler with `opts` on that store: its start-up arms
 * every job (no ask timeout on that path, however slow the machine). Notes go to `notes`.
 */
export async function everySecondJobs(
  n: number,
  addTemplate: (offline: Scheduler) => Promise<void>,
  opts: Omit<SchedulerOptions, 'dataDir'>,
  notes: string[],
): Promise<EverySecond> {
  const tLoad = Date.now();
  // (Generous: once 10,000 jobs fire per second the engine cannot answer start-up's last asks.)
  const created = nextWholeSecond(Date.now(), 8000 + n * 4);
  const offline = await openScheduler({ mode: 'offline' });
  let jobs: Job[];
  try {
    await addTemplate(offline.s);
    const doc = await offline.s.backup();
    const tpl = doc.jobs[0]!;
    const at = new Date(created).toISOString();
    jobs = Array.from({ length: n }, (_, i) => ({
      ...tpl, id: `${tpl.id}${String(i).padStart(6, '0')}`, name: `tick-${i}`, schedule: 'every 1s',
      createdAt: at, updatedAt: at, nextRunAt: null, lastRun: null,
    }));
    await offline.s.restore({ ...doc, jobs, runs: [], slots: [] });
    await offline.s.shutdown({ graceMs: 0 });
    notes.push(`jobs loaded by restore in ${fmt((Date.now() - tLoad) / 1000)} s`);
  } catch (err) {
    await offline.close();
    throw err;
  }
  const active = await openScheduler(opts, offline.dataDir);
  const loadMs = Date.now() - tLoad;
  notes.push(`loaded and armed in ${fmt(loadMs / 1000)} s`);
  return {
    s: active.s, jobs, created, loadMs,
    close: async () => {
      try {
        await active.close();
      } finally {
        rmSync(offline.dataDir, { recursive: true, force: true });
      }
    },
  };
}
