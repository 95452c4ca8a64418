/**
 * Start-up of the scheduler actor (and of every new engine incarnation): the job index loaded page
 * by page, each armed job's schedule state taken into memory (SlotKeeper), missed slots recovered
 * through the catch-up policy, and runs a stop or crash left unfinished recovered. What start-up
 * makes durable goes to the group commit like any other turn (a page's states share one commit).
 */
import type { Logger } from '../../model';
import type { Job } from '../../model/job';
import type { ActorRef } from '../../runtime/types';
import type { Schedule } from '../parser/schedule';
import type { PersistenceHandlers } from '../persistence/actor';
import type { JobPageEntry } from '../persistence/port';
import { factsOf, kindOf } from './job-index';
import { killOrphans } from './orphans';
import { removeStaleGroups } from '../../workers/run/cgroup';
import { REBOOT_KEY } from './trigger-log';
import type { Engine } from './engine';

/** Jobs read from the store per message at start-up. */
export const LOAD_PAGE = 2000;
/** Fewest timeline entries start-up sends in one message (see loadJobs). */
const ARM_CHUNK = 50_000;

/** What loading needs beside the engine. */
export interface LoadDeps {
  clock: { now(): number };
  logger: Logger;
  persistence: ActorRef<PersistenceHandlers>;
  /** Active mode: arm and recover (offline only loads the index). */
  start: boolean;
  /** First start of this process: `@reboot` jobs fire. */
  reboot: boolean;
  remember(job: Job): void;
  schedule(job: Pick<Job, 'id' | 'schedule' | 'timezone'>): Schedule | undefined;
  watch(job: Job): void;
  jobs(ids: string[]): Promise<Map<string, Job>>;
}

/**
 * Loads the job index page by page (both modes). With `start` (active mode) it also arms every
 * job: straight from its stored next slot when that is still ahead, or through recovery (missed
 * slots, catch-up) when it is not; then it recovers runs a stop or crash left behind.
 */
export async function loadJobs(e: Engine, d: LoadDeps): Promise<void> {
  const now = d.clock.now();
  // Runs a crash left behind are read before anything fires, so a run queued below is not among them.
  const unfinished = d.start ? await d.persistence.ask('unfinishedRuns', {}) : [];
  let after: string | null = null;
  let sentArms = 0;
  for (;;) {
    const page: JobPageEntry[] = await d.persistence.ask('jobPage', { after, limit: LOAD_PAGE, now });
    const needSpec: string[] = [];
    for (const { head, state, job } of page) {
      if (job === null) {
        // The head is enough: paused, done, or its next slot is stored and still ahead.
        e.index.set(head, 'timed');
        if (!d.start || !head.enabled || head.done) continue;
        const schedule = head.schedule === undefined ? undefined : d.schedule({ id: head.id, schedule: head.schedule, timezone: head.timezone ?? null });
        if (schedule === undefined) {
          needSpec.push(head.id);
          continue;
        }
        const entry = e.slots.entryFromState({ id: head.id, jitterMs: head.jitterMs, createdAt: state?.anchorAt ?? null }, schedule, state, now);
        if (entry === null) needSpec.push(head.id);
        else e.arming.arm(entry.jobId, entry.at);
        continue;
      }
      await armJob(e, d, job, state, now);
    }
    if (needSpec.length > 0) {
      const jobs = await d.jobs(needSpec);
      for (const id of needSpec) {
        const job = jobs.get(id);
        if (job !== undefined) await armJob(e, d, job, e.slots.stateOf(id), now);
      }
    }
    // One commit (of this page's states) per page. The timeline entries go in growing messages:
    // once as many are held as the queue holds already (and at least ARM_CHUNK), so each message
    // is heapified in one go and the whole start-up costs O(n) heap moves, with at most about half
    // the jobs' entries waiting in memory at once.
    const held = e.arming.size;
    const hold = held < Math.max(ARM_CHUNK, sentArms);
    if (!hold) sentArms += held;
    await e.endTurn(false, hold);
    if (page.length < LOAD_PAGE) break;
    after = page[page.length - 1]!.head.id;
  }
  // The last held entries.
  await e.endTurn();
  if (!d.start) return;
  // Any unfinished run may have been executing: its processes (found by RAE_SCHED_RUN_ID) are killed.
  const orphans = killOrphans(new Set(unfinished.map((u) => u.run.id)));
  if (orphans.killed.length > 0) d.logger.warn({ pids: orphans.killed }, 'killed processes left running by a previous scheduler');
  // And every run cgroup of a scheduler that is gone, with what runs in it (also processes that
  // cleared their environment, which the marker scan cannot see).
  const stale = await removeStaleGroups();
  if (stale > 0) d.logger.warn({ groups: stale }, 'removed the cgroups of runs left by a previous scheduler, and killed their processes');
  const jobs = await d.jobs([...new Set(unfinished.map((u) => u.run.jobId))]);
  for (const { run, parked } of unfinished) {
    // A run another live scheduler executes (a foreground `rae-sched run`) is its owner's to finish.
    if (orphans.ownedElsewhere.has(run.id)) continue;
    const job = jobs.get(run.jobId);
    // A fire committed ahead whose time is still ahead never started: it waits for its time again.
    if (job !== undefined && !e.ahead.reclaim(job, run)) e.runs.recover(job, run, parked);
  }
}

async function armJob(e: Engine, d: LoadDeps, job: Job, state: ReturnType<Engine['slots']['stateOf']>, now: number): Promise<void> {
  d.remember(job);
  const schedule = d.schedule(job);
  e.index.set(factsOf(job), kindOf(schedule ?? null));
  if (!d.start || schedule === undefined || !job.enabled || job.completedAt !== null) return;
  d.watch(job);
  if (schedule.kind === 'event') {
    if (schedule.event === 'reboot' && d.reboot) e.triggerLog.note(job, REBOOT_KEY, '@reboot: the scheduler started', e.fireSlot(job, now, 'event', false), now);
    return;
  }
  const entry = e.slots.entryFromState(job, schedule, state, now);
  if (entry !== null) {
    e.arming.arm(entry.jobId, entry.at);
    return;
  }
  if (!e.slots.planArm(job, schedule, state, now)) e.slots.recover(job, schedule, state, now);
}
