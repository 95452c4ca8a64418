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
import { PAGE_DONE, PAGE_ENABLED, PAGE_FRAMED, PAGE_STATE, type StartupPage } from '../persistence/port';
import type { ScheduleState } from '../persistence/schema';
import { iso } from './runs';
import { factsOf, kindOf } from './job-index';
import { killOrphans } from './orphans';
import { removeStaleGroups } from '../../workers/run/cgroup';
import { REBOOT_KEY } from './trigger-log';
import { runSliced } from '../../runtime/slice';
import type { Engine } from './engine';

/** Jobs read from the store per message at start-up. */
export const LOAD_PAGE = 5000;
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
  // The clock steps handled so far (clock-frame.ts): states are written tagged with their offset.
  const frame = await d.persistence.ask('clockFrame', {});
  e.slots.loadFrame(frame);
  e.commit.loadClock(frame);
  let sentArms = 0;
  const read = (after: string | null): Promise<StartupPage> => d.persistence.ask('jobPage', { after, limit: LOAD_PAGE, now });
  let pending: Promise<StartupPage> | null = read(null);
  while (pending !== null) {
    const page: StartupPage = await pending;
    const n = page.ids.length;
    // The next page is read (and decoded, and sent) by the persistence thread while this one is armed.
    pending = n < LOAD_PAGE ? null : read(page.ids[n - 1]!);
    // Rows that need their whole spec: those the page carries it for, and those armPage could not arm.
    const rows = [...page.jobs.map(([i]) => i), ...armPage(e, d, page, now)];
    const specs = new Map(page.jobs.map(([, job]) => [job.id, job]));
    const missing = rows.map((i) => page.ids[i]!).filter((id) => !specs.has(id));
    if (missing.length > 0) for (const [id, job] of await d.jobs(missing)) specs.set(id, job);
    for (const i of rows) {
      const job = specs.get(page.ids[i]!);
      if (job !== undefined) await armJob(e, d, job, stateOf(e, page, i), now);
    }
    // One commit (of this page's states) per page. The timeline entries go in growing messages:
    // once as many are held as the queue holds already (and at least ARM_CHUNK), so each message
    // is heapified in one go and the whole start-up costs O(n) heap moves, with at most about half
    // the jobs' entries waiting in memory at once.
    const held = e.arming.size;
    const hold = held < Math.max(ARM_CHUNK, sentArms);
    if (!hold) sentArms += held;
    await e.endTurn(false, hold);
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
  // In time slices (src/runtime/slice.ts): thousands of runs left by a crash are each recorded
  // `interrupted` with their retry, and the loop must not hold the thread for seconds. Each slice's
  // records go to the commit before it yields (sealed in bounded batches: committer.ts).
  await runSliced(unfinished, ({ run, parked }) => {
    // A run another live scheduler executes (a foreground `rae-sched run`) is its owner's to finish.
    if (orphans.ownedElsewhere.has(run.id)) return;
    const job = jobs.get(run.jobId);
    // A fire committed ahead whose time is still ahead never started: it waits for its time again.
    if (job !== undefined && !e.ahead.reclaim(job, run)) e.runs.recover(job, run, parked);
  }, { beforeYield: () => e.commit.flush() });
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
    e.arming.armFresh(entry.jobId, entry.at);
    return;
  }
  if (!e.slots.planArm(job, schedule, state, now)) e.slots.recover(job, schedule, state, now);
}

const NO_UPSTREAM: string[] = [];

/**
 * Indexes every job of a page and arms, straight from its stored next slot, each active one whose
 * slot is still ahead: memory work only, no object per job beyond the index's and the keeper's.
 * Returns the rows it could not arm, which need their whole spec (recovery, catch-up, no schedule
 * in the head).
 */
function armPage(e: Engine, d: LoadDeps, page: StartupPage, now: number): number[] {
  const needSpec: number[] = [];
  const upstream = new Map(page.after);
  const withSpec = new Set(page.jobs.map(([i]) => i));
  const parsed: Array<Schedule | undefined | null> = page.schedules.map(() => null);
  for (let i = 0; i < page.ids.length; i++) {
    if (withSpec.has(i)) continue;
    const id = page.ids[i]!;
    const f = page.flags[i]!;
    const enabled = (f & PAGE_ENABLED) !== 0;
    const done = (f & PAGE_DONE) !== 0;
    // The head is enough: paused, done, or its next slot is stored and still ahead.
    e.index.setHead(id, page.names[i]!, enabled, done, upstream.get(i) ?? NO_UPSTREAM, 'timed');
    if (!d.start || !enabled || done) continue;
    const k = page.schedule[i]!;
    let schedule: Schedule | undefined;
    if (k >= 0) {
      // Parsed once per distinct schedule of the page (and cached across pages by the engine).
      let p = parsed[k];
      if (p === null) p = parsed[k] = d.schedule({ id, schedule: page.schedules[k]!.schedule, timezone: page.schedules[k]!.timezone });
      schedule = p;
    }
    const at = schedule === undefined ? NaN : e.slots.entryFromInstants(id, page.jitterMs[i]!, schedule, page.last[i]!, page.next[i]!, page.anchor[i]!, now,
      (f & PAGE_FRAMED) !== 0);
    if (Number.isNaN(at)) needSpec.push(i);
    else e.arming.armFresh(id, at);
  }
  return needSpec;
}

/** The stored schedule state of a page's row, as the store has it. */
function stateOf(e: Engine, page: StartupPage, i: number): ScheduleState | null {
  const id = page.ids[i]!;
  if ((page.flags[i]! & PAGE_STATE) === 0) return null;
  const text = (v: number): string | null => (Number.isNaN(v) ? null : iso(v));
  const state: ScheduleState = { jobId: id, lastSlotAt: text(page.last[i]!), nextRunAt: text(page.next[i]!), anchorAt: text(page.anchor[i]!) };
  // Tagged (PAGE_FRAMED): its instants are already read at the store's clock offset.
  if ((page.flags[i]! & PAGE_FRAMED) !== 0) state.offsetMs = e.slots.clockOffsetMs;
  return state;
}
