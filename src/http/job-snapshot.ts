/**
 * Every job, sorted by id, for the filtered job pages (`GET /v1/jobs?q=&state=`): a search over
 * 10,000 jobs must not read the whole store per keystroke (reading them all takes seconds on a
 * loaded machine, filtering them takes milliseconds).
 *
 * - Job and run events patch the snapshot in place (a job added, changed or removed; a run's
 *   `lastRun`), so it stays current without a read.
 * - Once older than `maxAgeMs` it is refreshed in the background (fields no event carries, like
 *   `nextRunAt` after a fire, are then at most that old plus one read): readers keep getting the
 *   current one meanwhile — stale-while-revalidate. Events that arrive during a refresh are applied
 *   again on top of its result (events carry whole jobs and runs, so re-applying one to a state that
 *   already has it, in order, ends in the same state).
 * - A write through the API patches it with the write's answer before the answer is sent
 *   ({@link JobSnapshot.written}), so a page sees its own writes even before their events arrive;
 *   a restore or a failed write {@link JobSnapshot.invalidate}s it (the next reader waits for a read).
 */
import type { Job } from '../model/job';
import type { SchedulerEvent } from '../model/events';

const byId = (a: Job, b: Job): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Index of the first job whose id is >= `id`. */
function lowerBound(jobs: Job[], id: string): number {
  let lo = 0;
  let hi = jobs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (jobs[mid]!.id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Applies one event to a sorted job list (in place). */
export function applyJobEvent(jobs: Job[], e: SchedulerEvent): void {
  if (e.type === 'job.added' || e.type === 'job.updated') {
    const i = lowerBound(jobs, e.job.id);
    if (jobs[i]?.id === e.job.id) jobs[i] = e.job;
    else jobs.splice(i, 0, e.job);
  } else if (e.type === 'job.removed') {
    const i = lowerBound(jobs, e.jobId);
    if (jobs[i]?.id === e.jobId) jobs.splice(i, 1);
  } else if (e.type === 'run.started' || e.type === 'run.finished') {
    // `lastRun` is the newest run that started (src/actors/scheduler/runs.ts lastRunOf): a queued
    // run does not count, and an older run ending after a newer one started does not replace it.
    const i = lowerBound(jobs, e.run.jobId);
    const cur = jobs[i]?.id === e.run.jobId ? jobs[i]!.lastRun : undefined;
    if (cur !== undefined && (cur === null || e.run.id >= cur.id)) jobs[i] = { ...jobs[i]!, lastRun: e.run };
  }
}

/** The snapshot. `read` lists every job (the scheduler's `listJobs()`). */
export class JobSnapshot {
  readonly #read: () => Promise<Job[]>;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #jobs: Job[] | null = null;
  #at = 0;
  /** The read under way, and the events seen since it started (applied again on its result). */
  #refresh: { done: Promise<Job[]>; since: SchedulerEvent[] } | null = null;
  #generation = 0;

  constructor(read: () => Promise<Job[]>, opts: { maxAgeMs: number; now?: () => number }) {
    this.#read = read;
    this.#maxAgeMs = opts.maxAgeMs;
    this.#now = opts.now ?? Date.now;
  }

  /** Every job, sorted by id. Do not change the array. */
  get(): Promise<Job[]> {
    if (this.#jobs === null) return this.#start().done;
    if (this.#now() - this.#at >= this.#maxAgeMs && this.#refresh === null) {
      this.#start().done.catch(() => undefined);
    }
    return Promise.resolve(this.#jobs);
  }

  /** Keeps the snapshot current with a scheduler event. */
  apply(e: SchedulerEvent): void {
    if (!e.type.startsWith('job.') && !e.type.startsWith('run.')) return;
    if (this.#jobs !== null) applyJobEvent(this.#jobs, e);
    this.#refresh?.since.push(e);
  }

  /**
   * Applies the answer of a write route: the job added, paused or resumed; the run queued; the job
   * removed (`ref` is its id or name). Anything else (restore) forgets the snapshot.
   */
  written(operationId: string, answer: unknown, ref: string | undefined): void {
    const at = new Date(this.#now()).toISOString();
    if (operationId === 'addJob' || operationId === 'pauseJob' || operationId === 'resumeJob') {
      this.apply({ type: 'job.updated', at, job: answer as Job });
    } else if (operationId === 'runJob') {
      this.apply({ type: 'run.queued', at, run: answer as Job['lastRun'] & object });
    } else if (operationId === 'removeJob' && ref !== undefined) {
      const job = this.#jobs?.find((j) => j.id === ref || j.name === ref);
      if (job !== undefined) this.apply({ type: 'job.removed', at, jobId: job.id, name: job.name });
      else if (this.#jobs !== null) this.invalidate();
    } else {
      this.invalidate();
    }
  }

  /** Forgets the snapshot: the next reader waits for a fresh read. */
  invalidate(): void {
    this.#jobs = null;
    this.#refresh = null;
    this.#generation++;
  }

  #start(): { done: Promise<Job[]>; since: SchedulerEvent[] } {
    if (this.#refresh !== null) return this.#refresh;
    const generation = this.#generation;
    const startedAt = this.#now();
    const since: SchedulerEvent[] = [];
    const done = this.#read().then((list) => {
      const jobs = [...list].sort(byId);
      for (const e of since) applyJobEvent(jobs, e);
      if (generation === this.#generation) {
        this.#jobs = jobs;
        this.#at = startedAt;
        this.#refresh = null;
      }
      return jobs;
    }, (err: unknown) => {
      if (generation === this.#generation) this.#refresh = null;
      throw err;
    });
    this.#refresh = { done, since };
    return this.#refresh;
  }
}
