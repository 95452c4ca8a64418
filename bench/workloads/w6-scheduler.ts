/**
 * W6, the scheduler actor: it crashes (an unexpected error in a handler: a bug) with JOBS jobs
 * stored and armed, under CALLERS concurrent `addJob` callers; how long until it serves again, and is
 * any acknowledged call lost?
 *
 * The crash is injected with the scheduler's crash injector (`testHooks().throwIn('scheduler',
 * 'runNowMany')`, the in-process twin of `RAE_SCHED_INJECT_CRASH=scheduler.runNowMany`): the next
 * `runNow` crashes the actor. Its supervisor restarts it; the new incarnation reloads every job from
 * the store and re-arms the timeline. Measured:
 * - restart: crash → the supervisor's `actor.restarted` event (the new incarnation has loaded and armed);
 * - serving again: crash → the first `runNow` ASKED after the crash that is answered (its run durable);
 * - armed: the timeline holds every scheduled job again (queue depth read right after serving again),
 *   and a job due every second fires after the restart;
 * - lost: acknowledged jobs missing afterwards (same scheduler, and after a fresh `createScheduler`).
 */
import { rmSync } from 'node:fs';
import { filter, firstValueFrom } from 'rxjs';
import { testHooksOf } from '../../src/scheduler';
import { childMain } from '../harness/child';
import { msSince, sleep } from '../harness/measure';
import type { Sample } from '../harness/types';
import { openScheduler } from './rae';
import { addCallers, failedNote, lossFigures, w6Spec as spec, withStandby } from './w6-common';

/** Concurrent addJob callers while the scheduler crashes. */
export const SCHED_CALLERS = 8;

/** Args of {@link schedulerCrash}. */
export interface SchedulerCrashArgs { jobs: number; warmMs: number; afterMs: number }

async function schedulerCrash(a: SchedulerCrashArgs): Promise<Sample> {
  const { s, dataDir } = await openScheduler(withStandby(true));
  let reopened: Awaited<ReturnType<typeof openScheduler>> | null = null;
  try {
    // The store: `jobs` jobs, added by 64 concurrent callers (they share transactions).
    let next = 0;
    const t = process.hrtime.bigint();
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next < a.jobs - 2) await s.addJob(spec(`seed-${next++}`));
    }));
    await s.addJob(spec('tick', 'every 1s'));
    await s.addJob({ ...spec('probe'), schedule: 'never' });
    const seedMs = msSince(t);
    const hooks = testHooksOf(s);
    const callers = addCallers(s, SCHED_CALLERS);
    const { acked, failed } = callers;
    await sleep(a.warmMs);
    let t0 = process.hrtime.bigint();
    // Timed when the event comes (the serving loop below may end later).
    const restarted = firstValueFrom(s.events$.pipe(filter((e) => e.type === 'actor.restarted' && e.actor === 'scheduler'))).then(() => msSince(t0));
    const inFlightAtDeath = callers.inFlight();
    hooks.throwIn('scheduler', 'runNowMany');
    t0 = process.hrtime.bigint();
    let crashed = false;
    let servingMs = NaN;
    for (;;) {
      try {
        await s.runNow('probe');
        if (!crashed) throw new Error('the injected crash did not happen');
        servingMs = msSince(t0);
        break;
      } catch (err) {
        if (!crashed && (err as { code?: string }).code === 'ACTOR_DEAD') crashed = true;
        else if (!crashed) throw err;
        if (msSince(t0) > 60_000) break;
      }
    }
    const scheduledAtServing = (await s.stats()).queue.scheduled;
    const restartMs = await restarted;
    const tickId = (await s.getJob('tick')).id;
    const ticked = firstValueFrom(s.events$.pipe(filter((e) => e.type === 'run.started' && e.run.jobId === tickId)));
    await Promise.race([ticked, sleep(10_000)]);
    const tickAfterMs = msSince(t0);
    await sleep(a.afterMs);
    await callers.stop();
    const jobs = (await s.listJobs()).length;
    const loss = await lossFigures(s, dataDir, acked, failed);
    reopened = loss.reopened;
    return {
      metrics: {
        servingMs, restartMs, tickAfterMs, scheduledAtServing, jobs, seedMs, inFlightAtDeath, acked: acked.length,
        ...loss.metrics,
      },
      notes: failedNote('scheduler', failed),
    };
  } finally {
    await reopened?.s.shutdown({ graceMs: 1000 }).catch(() => undefined);
    await s.shutdown({ graceMs: 1000 }).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) childMain({ schedulerCrash });
