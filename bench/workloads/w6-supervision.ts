/**
 * W6 supervision: a thread actor dies under load; how long until the scheduler serves again, and is
 * any acknowledged call lost?
 *
 * One fresh scheduler per repetition and actor. CALLERS concurrent callers each add jobs in a loop
 * (`addJob` goes through the parser thread, to check the schedule, and the persistence thread, to
 * store it). After a warm-up, the actor's worker thread is terminated from outside (as a crash
 * would: `threadActorProbe().crash(name)` from rae-scheduler/testing). Measured:
 * - restart: death → the supervisor's `actor.restarted` event;
 * - serving again: death → the first reply of an `addJob` ASKED after the death (asked again at once
 *   until one succeeds);
 * - calls in flight at the death, and calls that failed (not acknowledged: the caller got an error);
 * - lost: acknowledged jobs (addJob resolved) missing afterwards — from `listJobs` on the same
 *   scheduler, and again after a shutdown and a fresh `createScheduler` on the same store. Must be 0.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { threadActorProbe } from '../../src/testing';
import { childMain } from '../harness/child';
import { msSince, sleep } from '../harness/measure';
import { fmt, fmtSummary } from '../harness/report';
import type { Workload } from '../harness/runner';
import type { MeasurementSpec, Mode, Sample } from '../harness/types';
import { openScheduler } from './rae';
import { SCHED_CALLERS, type SchedulerCrashArgs } from './w6-scheduler';
import { addCallers, failedNote, lossFigures, w6Spec, withStandby } from './w6-common';

const CALLERS = 8;
const ACTORS = ['persistence', 'parser'] as const;

/**
 * `standby`: a spare booted worker per thread actor, as the daemon runs (`rae-sched daemon`); without
 * it (a library scheduler's default) a restart boots a new worker and loads the module first.
 */
interface Args { actor: (typeof ACTORS)[number]; warmMs: number; afterMs: number; standby: boolean }

async function crash(a: Args): Promise<Sample> {
  const probe = threadActorProbe();
  const first = await openScheduler(withStandby(a.standby));
  const { s, dataDir } = first;
  let reopened: Awaited<ReturnType<typeof openScheduler>> | null = null;
  try {
    const callers = addCallers(s, CALLERS);
    const { acked, failed } = callers;
    await sleep(a.warmMs);
    let t0 = process.hrtime.bigint();
    // Timed when the event comes (the serving loop below may end later).
    const restarted = firstValueFrom(s.events$.pipe(filter((e) => e.type === 'actor.restarted' && e.actor === a.actor))).then(() => msSince(t0));
    const inFlightAtDeath = callers.inFlight();
    const ackedBefore = acked.length;
    t0 = process.hrtime.bigint();
    await probe.crash(a.actor);
    let servingMs = NaN;
    let probes = 0;
    for (;;) {
      probes++;
      try {
        await s.addJob(w6Spec(`probe-${probes}`));
        servingMs = msSince(t0);
        acked.push(`probe-${probes}`);
        break;
      } catch {
        if (msSince(t0) > 60_000) break;
      }
    }
    const restartMs = await restarted;
    await sleep(a.afterMs);
    await callers.stop();
    const loss = await lossFigures(s, dataDir, acked, failed);
    reopened = loss.reopened;
    return {
      metrics: {
        servingMs, restartMs, inFlightAtDeath, acked: acked.length, ackedAfterDeath: acked.length - ackedBefore,
        ...loss.metrics, incarnations: probe.started(a.actor),
      },
      notes: failedNote(a.actor, failed),
    };
  } finally {
    probe.close();
    await reopened?.s.shutdown({ graceMs: 1000 }).catch(() => undefined);
    await s.shutdown({ graceMs: 1000 }).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const ARGS: Record<Mode, Omit<Args, 'actor' | 'standby'>> = { quick: { warmMs: 1000, afterMs: 500 }, full: { warmMs: 2000, afterMs: 1000 } };
/** The scheduler case: the goal is stated with 10,000 jobs, so quick runs hold as many. */
const SCHED_ARGS: Record<Mode, SchedulerCrashArgs> = { quick: { jobs: 10_000, warmMs: 1000, afterMs: 500 }, full: { jobs: 10_000, warmMs: 2000, afterMs: 1000 } };
/** Serving again after a thread actor's death (parser, persistence) / the scheduler's crash. */
const GOAL_MS = { persistence: 100, parser: 100, scheduler: 1000 } as const;

/** W6 as the harness runs it. */
export const w6: Workload = {
  id: 'W6',
  title: `supervision: a thread actor's worker dies / the scheduler actor crashes under ${CALLERS} concurrent addJob callers`,
  run: async (ctx) => {
    const specs: MeasurementSpec[] = ACTORS.map((actor) => ({
      id: `W6.${actor}`, label: `${actor} thread terminated (standby, as the daemon)`, role: 'rae', file: __filename, fn: 'crash',
      args: { actor, standby: true, ...ARGS[ctx.mode] }, timeoutMs: 180_000,
    }));
    // Beside it, same run: a library scheduler's default (no spare worker).
    specs.push({
      id: 'W6.persistence-cold', label: 'persistence thread terminated (no standby)', role: 'rae', file: __filename, fn: 'crash',
      args: { actor: 'persistence', standby: false, ...ARGS[ctx.mode] }, timeoutMs: 180_000,
    });
    specs.push({
      id: 'W6.scheduler', label: `scheduler actor crashed with ${SCHED_ARGS[ctx.mode].jobs.toLocaleString('en-US')} jobs`, role: 'rae',
      file: path.join(__dirname, 'w6-scheduler.js'), fn: 'schedulerCrash', args: SCHED_ARGS[ctx.mode], timeoutMs: 300_000,
    });
    await ctx.interleave(specs, ctx.reps({ quick: 2, full: 5 }));
  },
  evaluate: (r) => {
    const rows = ACTORS.map((actor) => {
      const id = `W6.${actor}`;
      const res = r.get(id);
      // Lost acknowledged calls are judged on the WORST repetition, not the median.
      const lostMax = res && res.samples.length > 0 ? Math.max(...res.samples.map((x) => x.metrics.lost ?? NaN)) : null;
      // Serving again is judged on the median (the noise of a shared machine is in the ±).
      const serving = r.m(id, 'servingMs');
      const met = lostMax === 0 && (res?.errors.length ?? 1) === 0 && serving !== null && serving < GOAL_MS[actor];
      return {
        workload: 'W6', what: `${actor} thread killed: death → serving again`, rae: fmtSummary(r.s(id, 'servingMs'), 'ms'),
        beside: `restart event ${fmtSummary(r.s(id, 'restartMs'), 'ms')}; in flight ${fmt(r.m(id, 'inFlightAtDeath'))}, failed (unacked) ${fmt(r.m(id, 'failed'))}, acked lost ${lostMax === null ? '—' : fmt(lostMax)}`,
        ratio: null, goal: `< ${GOAL_MS[actor]} ms, 0 acknowledged calls lost`, met, note: res?.notes.join('; ') || undefined,
      };
    });
    const cold = r.get('W6.persistence-cold');
    rows.push({
      workload: 'W6', what: 'persistence thread killed, no standby (library default): death → serving again', rae: fmtSummary(r.s('W6.persistence-cold', 'servingMs'), 'ms'),
      beside: `with standby (row above) ${fmtSummary(r.s('W6.persistence', 'servingMs'), 'ms')}; acked lost ${cold && cold.samples.length > 0 ? fmt(Math.max(...cold.samples.map((x) => x.metrics.lost ?? NaN))) : '—'}`,
      ratio: null, goal: '0 acknowledged calls lost', met: (cold?.errors.length ?? 1) === 0 && cold!.samples.length > 0 && cold!.samples.every((x) => x.metrics.lost === 0),
      note: cold?.notes.join('; ') || undefined,
    });
    const id = 'W6.scheduler';
    const res = r.get(id);
    const lostMax = res && res.samples.length > 0 ? Math.max(...res.samples.map((x) => x.metrics.lost ?? NaN)) : null;
    const serving = r.m(id, 'servingMs');
    rows.push({
      workload: 'W6', what: `scheduler crashed with ${fmt(r.m(id, 'jobs'))} jobs: crash → runNow answered`, rae: fmtSummary(r.s(id, 'servingMs'), 'ms'),
      beside: `restart event ${fmtSummary(r.s(id, 'restartMs'), 'ms')}; armed at serving ${fmt(r.m(id, 'scheduledAtServing'))}; every-1s job ran ${fmtSummary(r.s(id, 'tickAfterMs'), 'ms')} after; ${SCHED_CALLERS} callers, failed (unacked) ${fmt(r.m(id, 'failed'))}, acked lost ${lostMax === null ? '—' : fmt(lostMax)}`,
      ratio: null, goal: `< ${GOAL_MS.scheduler} ms, 0 acknowledged calls lost`,
      met: lostMax === 0 && (res?.errors.length ?? 1) === 0 && serving !== null && serving < GOAL_MS.scheduler, note: res?.notes.join('; ') || undefined,
    });
    return { rows, headline: [] };
  },
};

if (require.main === module) childMain({ crash });
