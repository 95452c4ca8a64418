/**
 * W3's peers in their own fresh processes: N per-second jobs with a no-op callback (it only notes
 * the time it ran), each library driven through its own public API with its defaults:
 *
 * - croner: `new Cron('* * * * * *', cb)` per job.
 * - node-cron: `cron.schedule('* * * * * *', cb)` per job.
 * - node-schedule: `scheduleJob('* * * * * *', cb)` per job.
 * - toad-scheduler: one `ToadScheduler`, a `SimpleIntervalJob({ seconds: 1 }, new Task(...))` per
 *   job (its native per-second form; slots are its start + k seconds, so drift counts as lateness).
 * - floor: ONE bare `setTimeout` per whole second calling all N callbacks — no scheduler at all.
 *
 * Each loads only its own library (dynamic import), so RSS is that library's.
 */
import { childMain, type ChildContext } from '../harness/child';
import { rssSampler, sleep } from '../harness/measure';
import type { Sample } from '../harness/types';
import { SlotTally, nextWholeSecond, type SlotReport } from './w3-slots';

/** The peers of W3, by id. */
export const PEERS = ['croner', 'node-cron', 'node-schedule', 'toad-scheduler', 'floor'] as const;
export type Peer = (typeof PEERS)[number];

/** How long after setup the window starts, and how long late fires are still taken after it. */
export const LEAD_MS = 2000;
export const GRACE_MS = 1500;

interface Args { peer: Peer; n: number; windowS: number }

/** Starts N jobs calling `cb(i)` every second; returns their phases (null: whole seconds) and a stop. */
type Starter = (n: number, cb: (i: number) => void) => Promise<{ phases: Float64Array | null; stop(): Promise<void> | void }>;

const starters: Record<Peer, Starter> = {
  croner: async (n, cb) => {
    const { Cron } = await import('croner');
    const jobs = Array.from({ length: n }, (_, i) => new Cron('* * * * * *', () => cb(i)));
    return { phases: null, stop: () => jobs.forEach((j) => j.stop()) };
  },
  'node-cron': async (n, cb) => {
    const cron = await import('node-cron');
    const tasks = Array.from({ length: n }, (_, i) => cron.schedule('* * * * * *', () => cb(i)));
    return { phases: null, stop: async () => { for (const t of tasks) await t.destroy(); } };
  },
  'node-schedule': async (n, cb) => {
    const schedule = await import('node-schedule');
    const jobs = Array.from({ length: n }, (_, i) => schedule.scheduleJob('* * * * * *', () => cb(i)));
    return { phases: null, stop: () => jobs.forEach((j) => j.cancel()) };
  },
  'toad-scheduler': async (n, cb) => {
    const { ToadScheduler, SimpleIntervalJob, Task } = await import('toad-scheduler');
    const scheduler = new ToadScheduler();
    const phases = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      phases[i] = Date.now() % 1000;
      scheduler.addSimpleIntervalJob(new SimpleIntervalJob({ seconds: 1 }, new Task(`t${i}`, () => cb(i))));
    }
    return { phases, stop: () => scheduler.stop() };
  },
  floor: async (n, cb) => {
    let timer: NodeJS.Timeout | undefined;
    const tick = (): void => {
      for (let i = 0; i < n; i++) cb(i);
      timer = setTimeout(tick, nextWholeSecond(Date.now(), 0) - Date.now() || 1000);
    };
    timer = setTimeout(tick, nextWholeSecond(Date.now(), 1) - Date.now());
    return { phases: null, stop: () => clearTimeout(timer) };
  },
};

/**
 * Waits through the window [t0, t1) and the grace after it: the process's CPU over the window
 * (percent of one core) and its peak RSS from t0 to the end of the grace (bytes).
 */
export async function overWindow(t0: number, t1: number): Promise<{ cpuPct: number; peakRss: number; peakSplit: { anon: number | null; file: number | null } }> {
  await sleep(t0 - Date.now());
  const rss = rssSampler();
  const cpu0 = process.cpuUsage();
  const w0 = Date.now();
  await sleep(t1 - Date.now());
  const cpu = process.cpuUsage(cpu0);
  const cpuPct = ((cpu.user + cpu.system) / 1000 / (Date.now() - w0)) * 100;
  await sleep(GRACE_MS);
  const peakRss = rss.stop();
  return { cpuPct, peakRss, peakSplit: rss.split() };
}

/** Turns a window's slot report (+ RSS, CPU) into the sample every W3 measurement sends. */
export function slotSample(r: SlotReport, extra: Record<string, number>, notes: string[] = []): Sample {
  return {
    metrics: {
      p50: r.lateness.p50, p99: r.lateness.p99, max: r.lateness.max, mean: r.lateness.mean,
      expected: r.expected, ran: r.ran, missing: r.missing, duplicates: r.duplicates, ...extra,
    },
    notes,
  };
}

async function peer(a: Args, ctx: ChildContext): Promise<void> {
  let tally: SlotTally | null = null;
  const started = await starters[a.peer](a.n, (i) => tally?.fire(i, Date.now()));
  const rssSetup = process.memoryUsage.rss();
  const t0 = nextWholeSecond(Date.now(), LEAD_MS);
  const t1 = t0 + a.windowS * 1000;
  // Fires before t0 find no tally (or count as outside): only the window is measured.
  tally = new SlotTally(a.n, t0, t1, started.phases ?? undefined);
  const { cpuPct, peakRss: peak } = await overWindow(t0, t1);
  // Deliver first: stopping 10,000 jobs can take long in some libraries, and the process exits anyway.
  ctx.deliver(slotSample(tally.report(), { rssMb: peak / 1048576, rssSetupMb: rssSetup / 1048576, cpuPct }));
  await Promise.race([started.stop(), sleep(5000)]);
}

if (require.main === module) childMain({ peer });
