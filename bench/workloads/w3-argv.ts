/**
 * W3-ARGV: 200 `/bin/true` argv jobs on `every 1s` (issue 7: "run every slot, none missed or
 * skipped"), all due on the same whole second, over a window of whole seconds: every slot of the
 * window accounted for (ran / skipped / missed / without a run), lateness of each run's start.
 * Run alone: `npm run bench -- --only W3-argv` (bench/README.md).
 *
 * - rae-scheduler: the jobs of W3's set-up (w3-jobs.ts) with `{ argv: ['/bin/true'] }`, default
 *   `overlap: 'skip'` (a slot whose previous run of the same job has not finished is skipped),
 *   maxConcurrentJobs 64. Two latenesses per run: its DISPATCH (`run.started`: handed to the
 *   executor) and an upper bound of its PROCESS start (`run.finished`: finishedAt − durationMs, the
 *   process's own duration from its fork; late by the time its result took to come back).
 * - beside it, a bare spawner in a small fresh process (raw-spawn.ts): one `setTimeout` per whole second spawning
 *   the same 200 `/bin/true`, 64 at a time, a job's slot skipped while its previous process runs;
 *   lateness at each child's `spawn` event (forked and exec'd). No scheduler, no store.
 */
import { filter } from 'rxjs';
import { childMain, type ChildContext } from '../harness/child';
import { fmt } from '../harness/report';
import { ratio } from '../harness/stats';
import type { Workload } from '../harness/runner';
import type { MeasurementSpec, Mode, Row } from '../harness/types';
import { TEMPLATE, everySecondJobs } from './w3-jobs';
import { LEAD_MS, overWindow, slotSample } from './w3-peers';
import { TRUE } from './raw-spawn';
import { SlotTally, nextWholeSecond } from './w3-slots';

const N = 200;
const CONCURRENCY = 64;
const WINDOW_S: Record<Mode, number> = { quick: 10, full: 30 };

interface Args { n: number; windowS: number; concurrency: number }

/** Slots of the window by outcome, from `slot.recorded` (rae) or the spawner's own count. */
type Outcomes = { skipped: number; missed: number };

async function rae(a: Args, ctx: ChildContext): Promise<void> {
  const notes: string[] = [`maxConcurrentJobs ${a.concurrency}`];
  const { s, jobs, created, loadMs, close } = await everySecondJobs(a.n, async (offline) => {
    await offline.addJob({ ...TEMPLATE, command: { argv: [TRUE] } });
  }, { maxConcurrentJobs: a.concurrency, maxQueuedJobs: a.n + 1000 }, notes);
  try {
    const index = new Map(jobs.map((j, i) => [j.id, i]));
    let tally: SlotTally | null = null;
    let proc: SlotTally | null = null;
    const out: Outcomes = { skipped: 0, missed: 0 };
    let failed = 0;
    let window: [number, number] = [0, 0];
    const inWindow = (iso: string): boolean => {
      const at = Date.parse(iso);
      return at >= window[0] && at < window[1];
    };
    const subs = [
      s.events$.pipe(filter((e) => e.type === 'run.started')).subscribe((e) => {
        if (tally === null || e.type !== 'run.started' || e.run.startedAt === null) return;
        tally.fireAt(index.get(e.run.jobId) ?? -1, Date.parse(e.run.scheduledAt), Date.parse(e.run.startedAt));
      }),
      s.events$.pipe(filter((e) => e.type === 'run.finished')).subscribe((e) => {
        if (proc === null || e.type !== 'run.finished' || !inWindow(e.run.scheduledAt)) return;
        // A skipped slot's run is recorded `skipped` (counted from its slot): not a failure, never started.
        if (e.run.status === 'skipped') return;
        if (e.run.status !== 'succeeded') failed++;
        if (e.run.finishedAt === null || e.run.durationMs === null) return;
        proc.fireAt(index.get(e.run.jobId) ?? -1, Date.parse(e.run.scheduledAt), Date.parse(e.run.finishedAt) - e.run.durationMs);
      }),
      s.events$.pipe(filter((e) => e.type === 'slot.recorded')).subscribe((e) => {
        if (e.type !== 'slot.recorded' || !inWindow(e.slot.at)) return;
        if (e.slot.outcome === 'skipped' || e.slot.outcome === 'missed') out[e.slot.outcome]++;
      }),
    ];
    const rssSetup = process.memoryUsage.rss();
    // At least one fire of every job before the window (warm-up: the run hosts boot), then the lead.
    const t0 = Math.max(nextWholeSecond(Date.now(), LEAD_MS), created + 2000);
    if (Date.now() > created) notes.push(`set-up ended ${fmt((Date.now() - created) / 1000)} s after the jobs' first slot`);
    const t1 = t0 + a.windowS * 1000;
    window = [t0, t1];
    tally = new SlotTally(a.n, t0, t1);
    proc = new SlotTally(a.n, t0, t1);
    const { cpuPct, peakRss: peak } = await overWindow(t0, t1);
    for (const sub of subs) sub.unsubscribe();
    const p = proc.report().lateness;
    ctx.deliver(slotSample(tally.report(), {
      rssMb: peak / 1048576, rssSetupMb: rssSetup / 1048576, cpuPct, loadMs, failed,
      skipped: out.skipped, missed: out.missed, procP50: p.p50, procP99: p.p99, procMax: p.max,
    }, notes));
  } finally {
    await close();
  }
}

const specOf = (id: string, label: string, role: MeasurementSpec['role'], file: string, fn: string, args: Args): MeasurementSpec => ({
  id, label, role, file, fn, args, timeoutMs: args.windowS * 1000 + 240_000,
});

/** W3-ARGV as the harness runs it. */
export const w3argv: Workload = {
  id: 'W3-ARGV',
  title: `firing ${fmt(N)} ${TRUE} argv jobs on \`every 1s\`: every slot accounted for, lateness of run start`,
  run: async (ctx) => {
    const args: Args = { n: N, windowS: WINDOW_S[ctx.mode], concurrency: CONCURRENCY };
    // One repetition by default, as W3 (a window is already N × seconds slots).
    await ctx.interleave([
      specOf('W3.rae.argv', `rae-scheduler, ${fmt(N)} ${TRUE} argv jobs`, 'rae', __filename, 'rae', args),
      // In its own small file: a spawner that had loaded rae-scheduler would fork a bigger process.
      specOf('W3.spawner.argv', `bare spawner: one setTimeout per second spawning ${fmt(N)} ${TRUE}, ${CONCURRENCY} at a time`, 'floor', require.resolve('./raw-spawn'), 'spawner', args),
    ], ctx.reps({ quick: 1, full: 1 }));
  },
  evaluate: (r) => {
    const id = 'W3.rae.argv';
    const fig = (m: string, which: string): string => {
      const res = r.get(m);
      if (res === undefined || res.samples.length === 0) return res?.errors[0] ? `failed: ${res.errors[0]}` : 'failed';
      const counts = `ran ${fmt(r.m(m, 'ran'))} of ${fmt(r.m(m, 'expected'))} slots (${fmt(r.m(m, 'skipped'))} skipped, ${fmt(r.m(m, 'missed'))} missed, ${fmt(r.m(m, 'missing'))} without a run, ${fmt(r.m(m, 'failed'))} failed)`;
      return `${counts}; ${which} p50/p99/max ${fmt(r.m(m, 'p50'))}/${fmt(r.m(m, 'p99'))}/${fmt(r.m(m, 'max'))} ms`;
    };
    const ran = r.m(id, 'ran');
    const expected = r.m(id, 'expected');
    const missing = r.m(id, 'missing');
    const skipped = r.m(id, 'skipped');
    const missed = r.m(id, 'missed');
    const met = missing !== null && skipped !== null && missed !== null ? missing === 0 && skipped === 0 && missed === 0 : false;
    const procP99 = r.m(id, 'procP99');
    const rows: Row[] = [
      {
        workload: 'W3-ARGV', what: `${fmt(N)} ${TRUE} argv jobs every 1s: rae-scheduler`,
        rae: `${fig(id, 'dispatch')}; process start ≤ p50/p99 ${fmt(r.m(id, 'procP50'))}/${fmt(procP99)} ms`,
        beside: '—', ratio: null, goal: 'every slot runs: 0 skipped, 0 missed', met,
        note: r.get(id)?.notes.join('; ') || undefined,
      },
      {
        workload: 'W3-ARGV', what: `${fmt(N)} ${TRUE} argv jobs every 1s: vs a bare spawner, ${CONCURRENCY} at a time (ratio: process start p99 ÷ its spawn p99)`,
        rae: `process start ≤ p99 ${fmt(procP99)} ms`, beside: fig('W3.spawner.argv', 'spawned'),
        ratio: ratio(procP99 === null ? null : Math.max(1, procP99), r.m('W3.spawner.argv', 'p99') === null ? null : Math.max(1, r.m('W3.spawner.argv', 'p99')!)),
        goal: null, met: null,
      },
    ];
    return { rows, headline: [{ label: `W3-ARGV ${fmt(N)} argv jobs: slots run ÷ slots`, value: ratio(ran, expected), goal: 1, met }] };
  },
};

if (require.main === module) childMain({ rae });
