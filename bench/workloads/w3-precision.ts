/**
 * W3 firing precision: N jobs on `every 1s`, in phase (all due on the same whole second, as N cron
 * jobs `* * * * * *` are), measured over a window of whole seconds after a warm-up: lateness of each
 * run's start (run.startedAt − run.scheduledAt, from the `run.started` events), slots of the window
 * with no run (by the end of a short grace period), peak RSS and CPU of the process.
 *
 * rae-scheduler's jobs are loaded with `restore()` of a backup document built from one job added
 * with `addJob` (w3-jobs.ts: jobs in phase, and 10,000 jobs in seconds; W5 measures addJob). The
 * 200 `/bin/true` argv jobs are W3-ARGV (w3-argv.ts). Beside it, in their own processes: croner, node-cron, node-schedule, toad-scheduler
 * and the bare-setTimeout floor holding the same N per-second jobs (w3-peers.ts).
 */
import { filter } from 'rxjs';
import { childMain, type ChildContext } from '../harness/child';
import { fmt } from '../harness/report';
import { ratio } from '../harness/stats';
import type { Workload } from '../harness/runner';
import type { Headline, MeasurementSpec, Mode, Row } from '../harness/types';
import { addModuleJob, isolationOfThisBuild } from './rae';
import { TEMPLATE, everySecondJobs } from './w3-jobs';
import { GRACE_MS, LEAD_MS, PEERS, overWindow, slotSample, type Peer } from './w3-peers';
import { SlotTally, nextWholeSecond } from './w3-slots';
import { rssSplit } from '../harness/measure';

const WINDOW_S: Record<Mode, number> = { quick: 10, full: 30 };
/** What runs in each mode: sizes of module jobs with the peers beside them (the argv case is W3-ARGV, w3-argv.ts). */
const DEFAULT_PLAN: Record<Mode, { modules: Array<{ n: number; peers: readonly Peer[] }> }> = {
  quick: { modules: [{ n: 1000, peers: ['croner', 'floor'] }] },
  full: { modules: [{ n: 1000, peers: PEERS }, { n: 10_000, peers: PEERS }] },
};
/**
 * `RAE_BENCH_W3_JOBS=10000` (a comma list of sizes): only these sizes, each beside croner and the
 * floor, in either mode (quick: 10 s windows, full: 30 s) — the 10,000-job case on its own.
 */
function planOf(env: string | undefined): typeof DEFAULT_PLAN {
  if (env === undefined || env.trim() === '') return DEFAULT_PLAN;
  const sizes = env.split(',').map((v) => Number(v.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`RAE_BENCH_W3_JOBS: expected job counts like 10000 or 1000,10000, got '${env}'`);
  const modules = sizes.map((n) => ({ n, peers: ['croner', 'floor'] as readonly Peer[] }));
  return { quick: { modules }, full: { modules } };
}
const PLAN = planOf(process.env.RAE_BENCH_W3_JOBS);
/** maxConcurrentJobs: module runs in threads are cheap; in processes, 16 node processes is plenty for 2 cores. */
const CONCURRENCY = { thread: 1024, process: 16 };

interface Args { n: number; windowS: number; threads: boolean }

/** How often the rae child says how far it got (a progress line, and counts the parent keeps). */
const PROGRESS_EVERY_MS = 5000;

async function rae(a: Args, ctx: ChildContext): Promise<void> {
  const notes: string[] = [];
  const expected = a.n * a.windowS;
  // Figures so far, kept by the parent if this child overruns its budget: never "no result".
  const partial = (ran: number, stage: string, extra: Record<string, number> = {}): void => {
    ctx.partial({ metrics: { expected, ran, missing: expected - ran, ...extra }, notes: [...notes, `stopped ${stage}`] });
  };
  const maxConcurrentJobs = a.threads ? CONCURRENCY.thread : CONCURRENCY.process;
  notes.push(`maxConcurrentJobs ${maxConcurrentJobs}`);
  partial(0, 'while loading the jobs');
  const { s, jobs, created, loadMs, close } = await everySecondJobs(a.n, async (offline) => {
    notes.unshift(`isolation: ${(await addModuleJob(offline, TEMPLATE)).isolation}`);
  }, { maxConcurrentJobs, maxQueuedJobs: a.n + 1000 }, notes, () => {
    partial(0, 'while the scheduler started (start-up did not finish)');
    ctx.progress(`${fmt(a.n)} jobs restored; starting the scheduler`);
  });
  let ticker: NodeJS.Timeout | undefined;
  try {
    const index = new Map(jobs.map((j, i) => [j.id, i]));
    let tally: SlotTally | null = null;
    const notRun: Record<string, number> = {};
    let window: [number, number] = [0, 0];
    // Throughput of the whole engine (every slot and run, not only the window's): slots recorded
    // durable and runs finished per second, over each progress interval.
    const flow = { slots: 0, finished: 0, at: Date.now(), slots0: 0, finished0: 0 };
    const subs = [
      s.events$.subscribe((e) => {
        if (e.type === 'slot.recorded') flow.slots++;
        else if (e.type === 'run.finished') flow.finished++;
      }),
      s.events$.pipe(filter((e) => e.type === 'run.started')).subscribe((e) => {
        if (tally === null || e.type !== 'run.started' || e.run.startedAt === null) return;
        tally.fireAt(index.get(e.run.jobId) ?? -1, Date.parse(e.run.scheduledAt), Date.parse(e.run.startedAt));
      }),
      s.events$.pipe(filter((e) => e.type === 'slot.recorded')).subscribe((e) => {
        if (e.type !== 'slot.recorded' || e.slot.outcome === 'fired') return;
        const at = Date.parse(e.slot.at);
        if (at >= window[0] && at < window[1]) notRun[e.slot.outcome] = (notRun[e.slot.outcome] ?? 0) + 1;
      }),
    ];
    const outcomes = (): string => Object.entries(notRun).map(([k, v]) => `${fmt(v)} ${k}`).join(', ');
    const rssSetup = process.memoryUsage.rss();
    // At least one fire of every job before the window (warm-up), and the usual lead after set-up.
    const t0 = Math.max(nextWholeSecond(Date.now(), LEAD_MS), created + 2000);
    if (Date.now() > created) notes.push(`set-up ended ${fmt((Date.now() - created) / 1000)} s after the jobs' first slot`);
    const t1 = t0 + a.windowS * 1000;
    window = [t0, t1];
    const live = new SlotTally(a.n, t0, t1);
    tally = live;
    ctx.progress(`started in ${fmt(loadMs / 1000)} s; window of ${a.windowS} s begins in ${fmt((t0 - Date.now()) / 1000)} s`);
    // Counts only while the window runs (O(1), no sort on the measured thread); the parent keeps
    // the newest as the figures if this child overruns its budget.
    const report = (): void => {
      const t = Math.min(Date.now(), t1 + GRACE_MS);
      const stage = t < t0 ? 'before the window' : `${fmt(Math.min(a.windowS, (t - t0) / 1000))} s into the ${a.windowS} s window`;
      const other = outcomes();
      const dt = Math.max(1, Date.now() - flow.at) / 1000;
      const rates = `${fmt((flow.slots - flow.slots0) / dt)} slots recorded/s, ${fmt((flow.finished - flow.finished0) / dt)} runs finished/s`;
      Object.assign(flow, { at: Date.now(), slots0: flow.slots, finished0: flow.finished });
      ctx.progress(`${stage}: ${fmt(live.ran)} of ${fmt(expected)} slots ran so far${other === '' ? '' : ` (${other})`}; ${rates}; RSS ${fmt(process.memoryUsage.rss() / 1048576)} MB${rssParts(rssSplit())}`);
      partial(live.ran, stage, { skipped: notRun.skipped ?? 0, missed: notRun.missed ?? 0 });
    };
    ticker = setInterval(report, PROGRESS_EVERY_MS);
    const { cpuPct, peakRss: peak, peakSplit } = await overWindow(t0, t1);
    clearInterval(ticker);
    for (const sub of subs) sub.unsubscribe();
    const r = live.report();
    if (outcomes() !== '') notes.push(`slots of the window not run: ${outcomes()}`);
    const split = splitMetrics(peakSplit);
    if (split.rssAnonMb !== undefined && split.rssFileMb !== undefined) {
      notes.push(`peak RSS parts: ${fmt(split.rssAnonMb)} MB anonymous, ${fmt(split.rssFileMb)} MB file-backed (LMDB's map of the store)`);
    }
    // Deliver before shutting down: a scheduler left behind by the load may take long to drain.
    ctx.deliver(slotSample(r, {
      rssMb: peak / 1048576, rssSetupMb: rssSetup / 1048576, cpuPct, loadMs, ...split,
      skipped: notRun.skipped ?? 0, missed: notRun.missed ?? 0,
    }, notes));
  } finally {
    clearInterval(ticker);
    await close();
  }
}

/**
 * RSS parts for a progress line: most of rae-scheduler's RSS under W3 is file-backed — the pages of
 * the LMDB data file its threads touched through the map (the store grows by every run and slot
 * recorded) — not heap; the kernel may drop such pages and read them again.
 */
function rssParts(s: { rssAnon: number | null; rssFile: number | null }): string {
  if (s.rssAnon === null || s.rssFile === null) return '';
  return ` (anon ${fmt(s.rssAnon / 1048576)}, file-backed ${fmt(s.rssFile / 1048576)})`;
}

/** Peak RSS parts as sample metrics (MB), where Linux reports them. */
function splitMetrics(p: { anon: number | null; file: number | null }): { rssAnonMb?: number; rssFileMb?: number } {
  return {
    ...(p.anon === null ? {} : { rssAnonMb: p.anon / 1048576 }),
    ...(p.file === null ? {} : { rssFileMb: p.file / 1048576 }),
  };
}

const specOf = (id: string, label: string, role: MeasurementSpec['role'], fn: string, file: string, args: unknown, windowS: number): MeasurementSpec => ({
  id, label, role, file, fn, args, timeoutMs: windowS * 1000 + 240_000,
});

/** W3 as the harness runs it. */
export const w3: Workload = {
  id: 'W3',
  title: 'firing precision: N jobs on `every 1s`, lateness of run start and slots with no run',
  run: async (ctx) => {
    const windowS = WINDOW_S[ctx.mode];
    const plan = PLAN[ctx.mode];
    // One repetition by default: a window is already N × windowS slots, and a full run of W3 holds
    // 13 windows of 30 s (see bench/README.md for the time budget).
    const reps = ctx.reps({ quick: 1, full: 1 });
    const peerFile = require.resolve('./w3-peers');
    const { threads } = await ctx.shared('isolation', isolationOfThisBuild);
    for (const { n, peers } of plan.modules) {
      await ctx.interleave([
        specOf(`W3.rae.${n}`, `rae-scheduler, ${fmt(n)} module jobs`, 'rae', 'rae', __filename, { n, windowS, threads }, windowS),
        ...peers.map((p) => specOf(`W3.${p}.${n}`, `${p === 'floor' ? 'floor: one setTimeout per second' : p}, ${fmt(n)} jobs`, p === 'floor' ? 'floor' : 'peer', 'peer', peerFile, { peer: p, n, windowS }, windowS)),
      ], reps);
    }
  },
  evaluate: (r, mode) => {
    const rows: Row[] = [];
    const headline: Headline[] = [];
    const fig = (id: string): string => {
      const res = r.get(id);
      if (res === undefined || res.samples.length === 0) return res?.errors[0] ? `failed: ${res.errors[0]}` : 'failed';
      const slots = `${fmt(r.m(id, 'ran'))} of ${fmt(r.m(id, 'expected'))} slots ran`;
      // (The anonymous part beside it where known: the rest is mapped store pages, see rssParts.)
      const anon = r.m(id, 'rssAnonMb') === null ? '' : ` (${fmt(r.m(id, 'rssAnonMb'))} MB anonymous)`;
      const mb = r.m(id, 'rssMb') === null ? '' : `, ${fmt(r.m(id, 'rssMb'))} MB${anon}`;
      if (r.m(id, 'ran') === 0) return `no run started in the window: ${slots}${mb}`;
      // A partial sample (budget hit) has counts but no lateness.
      if (r.m(id, 'p99') === null) return `${slots} (lateness not reached)${mb}`;
      return `p50/p99/max ${fmt(r.m(id, 'p50'))}/${fmt(r.m(id, 'p99'))}/${fmt(r.m(id, 'max'))} ms, ${slots}${mb}`;
    };
    const sizes = PLAN[mode].modules.map((m) => ({ n: m.n, id: `W3.rae.${m.n}`, peers: m.peers, kind: 'module jobs' }));
    for (const { n, id, peers, kind } of sizes) {
      const p99 = r.m(id, 'p99');
      const missing = r.m(id, 'missing');
      const croner = r.m(`W3.croner.${n}`, 'p99');
      const peerId = (p: Peer): string => `W3.${p}.${n}`;
      let goal: string | null = null;
      let met: boolean | null = null;
      if (n <= 1000) {
        goal = '0 slots without a run, p99 ≤ 50 ms';
        met = p99 !== null && missing === 0 && p99 <= 50;
        headline.push({ label: 'W3 1,000 jobs: 50 ms ÷ p99 lateness', value: ratio(50, Math.max(1, p99 ?? NaN)), goal: 1, met });
      } else {
        goal = "0 slots without a run, p99 ≤ croner's";
        met = p99 !== null && croner !== null && missing === 0 && p99 <= croner;
        headline.push({ label: "W3 10,000 jobs: croner's p99 ÷ p99", value: ratio(Math.max(1, croner ?? NaN), Math.max(1, p99 ?? NaN)), goal: 1, met });
      }
      rows.push({
        workload: 'W3', what: `${fmt(n)} ${kind}: rae-scheduler`, rae: fig(id), beside: '—', ratio: null, goal, met,
        note: r.get(id)?.notes.join('; ') || undefined,
      });
      for (const p of peers) {
        const pid = peerId(p);
        const pp99 = r.m(pid, 'p99');
        rows.push({
          workload: 'W3', what: `${fmt(n)} ${kind}: vs ${p === 'floor' ? 'the floor (one setTimeout per second)' : p} (ratio: p99 ÷ its p99)`, rae: `p99 ${fmt(p99)} ms`, beside: fig(pid),
          // rae p99 ÷ peer p99, both floored at 1 ms (ms resolution; x/0 says nothing).
          ratio: ratio(p99 === null ? null : Math.max(1, p99), pp99 === null ? null : Math.max(1, pp99)), goal: null, met: null,
        });
      }
    }
    return { rows, headline };
  },
};

if (require.main === module) childMain({ rae });
