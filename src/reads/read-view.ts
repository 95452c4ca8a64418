/**
 * The read path: `list`, `status`, `history`, `why` and the run statistics, answered from a read
 * snapshot of the store on the caller's thread — never a message in the scheduler actor's mailbox,
 * so a burst of fires does not delay them, and LMDB readers never block (nor wait for) the writer.
 * What only the running scheduler knows (runs executing now, job counts of its index) comes from
 * {@link LiveFacts}, read synchronously; with no scheduler (the CLI without a daemon) there is none.
 */
import type { JobPage, ListJobsOptions, Logger, WhyReport } from '../api';
import { NotFoundError, ValidationError } from '../errors';
import type { Job, JobRow } from '../model/job';
import type { Run, RunTimes } from '../model/run';
import type { Clock } from '../runtime/clock';
import type { Schedule } from '../actors/parser/schedule';
import { ScheduleCache } from '../actors/parser/schedule-cache';
import type { JobListEntry, JobRowEntry, Store } from '../actors/persistence/store';
import type { StateInstants } from '../actors/persistence/schema';
import type { RunRollup } from '../actors/persistence/rollup';
import { iso, jobState, lastRunOf } from '../actors/scheduler/runs';
import { instantsOf, nextRunAtOf } from '../actors/scheduler/next-run';
import { explainBlockers } from '../actors/scheduler/why';
import { missingUpstreams, triggerStatusOf } from './trigger-status';
import { checkPageLimit, decodeCursor, DEFAULT_PAGE, encodeCursor } from './cursor';

/** Job counts as `stats` shows them. */
export interface JobCounts {
  total: number;
  enabled: number;
  paused: number;
  done: number;
}

/** What a running scheduler knows that is not in the store, read without a message. */
export interface LiveFacts {
  /** The job's runs executing now. */
  runningOf(jobId: string): Run[];
  /** Runs executing now, all jobs. */
  runningCount(): number;
  /** Counts from the scheduler's in-memory job index. */
  jobCounts(): JobCounts;
}

/** Options of {@link ReadView}. */
export interface ReadViewOptions {
  store: Store;
  clock: Clock;
  /** `active`: a scheduler runs and has armed the stored next slots. */
  mode: 'active' | 'offline';
  maxConcurrent: number;
  logger: Logger;
  /** Absent when no scheduler runs in this process. */
  live?: LiveFacts;
}

/**
 * One page of a store read after the cursor, each entry shown by `present`; the cursor of the next
 * page is the last id shown. The one paging rule of `listPage` and `listRowPage`.
 * @throws ValidationError for a bad `limit` or `after`.
 */
function pageOf<E, T extends { id: string }>(
  opts: ListJobsOptions,
  read: (after: string | null, limit: number) => { entries: E[]; more: boolean },
  present: (entry: E) => T,
): { jobs: T[]; next: string | null } {
  const limit = opts.limit === undefined ? DEFAULT_PAGE : checkPageLimit(opts.limit);
  const after = opts.after === undefined ? null : decodeCursor(opts.after);
  const page = read(after, limit);
  const jobs = page.entries.map(present);
  return { jobs, next: page.more && jobs.length > 0 ? encodeCursor(jobs[jobs.length - 1]!.id) : null };
}

/** Parsed schedules kept (many jobs share a few schedules). */
const SCHEDULE_CACHE = 10_000;
/** A one-time schedule, stored as its instant: the only kind `list` shows the typed text of (format.ts `scheduleText`). */
const ONE_TIME = /^at /;
/** Stands for a done job's completion time where only "done or not" is known (a head). */
const DONE = 'done';
const NO_LIVE: LiveFacts = { runningOf: () => [], runningCount: () => 0, jobCounts: () => ({ total: 0, enabled: 0, paused: 0, done: 0 }) };

/**
 * What the presenter reads of a job, from its head; the spec is read only if asked for (the
 * creation time a next fire counts from when no anchor is stored, a one-time schedule's text).
 */
class HeadFacts {
  readonly id: string;
  readonly schedule: string;
  readonly timezone: string | null;
  readonly enabled: boolean;
  /** Only compared with null (here and in `jobState`): the time itself is in the spec. */
  readonly completedAt: string | null;
  #spec: Job | null | undefined;

  constructor(head: JobRowEntry['head'], private readonly store: Store) {
    this.id = head.id;
    this.schedule = head.schedule;
    this.timezone = head.timezone;
    this.enabled = head.enabled;
    this.completedAt = head.done ? DONE : null;
  }

  get createdAt(): string {
    return this.spec()?.createdAt ?? '';
  }

  spec(): Job | null {
    return (this.#spec ??= this.store.getJob(this.id));
  }
}

/** Answers reads from the store. */
export class ReadView {
  readonly #o: ReadViewOptions;
  readonly #live: LiveFacts;
  /** Stored schedules parsed in-process (the parser thread validated them at add); the maths loads on first parse. */
  readonly #schedules: ScheduleCache;

  constructor(opts: ReadViewOptions) {
    this.#o = opts;
    this.#live = opts.live ?? NO_LIVE;
    this.#schedules = new ScheduleCache({
      max: SCHEDULE_CACHE, now: () => opts.clock.now(),
      onInvalid: (job, err) => opts.logger.warn({ jobId: job.id, err: String(err) }, 'stored schedule no longer parses'),
    });
  }

  /** Every job, in creation (id) order. */
  listJobs(): Job[] {
    const out: Job[] = [];
    let after: string | null = null;
    for (;;) {
      const page = this.#o.store.listJobsPage(after, 1000);
      for (const e of page.entries) out.push(this.#present(e));
      if (!page.more || page.entries.length === 0) return out;
      after = page.entries[page.entries.length - 1]!.job.id;
    }
  }

  /**
   * Every job as `list`'s table shows it ({@link JobRow}), in id order: the same columns as
   * {@link listJobs} gives, read without decoding a job spec (list-rows.ts).
   */
  listRows(): JobRow[] {
    const out: JobRow[] = [];
    let after: string | null = null;
    for (;;) {
      const page = this.#o.store.listRowsPage(after, 1000);
      for (const e of page.entries) out.push(this.#presentRow(e));
      if (!page.more || page.entries.length === 0) return out;
      after = page.entries[page.entries.length - 1]!.head.id;
    }
  }

  /**
   * One page of {@link listRows}, paged as {@link listPage} is (same cursors).
   * @throws ValidationError for a bad `limit` or `after`.
   */
  listRowPage(opts: ListJobsOptions): { jobs: JobRow[]; next: string | null } {
    return pageOf(opts, (after, limit) => this.#o.store.listRowsPage(after, limit), (e) => this.#presentRow(e));
  }

  /**
   * One page of jobs after the cursor.
   * @throws ValidationError for a bad `limit` or `after`.
   */
  listPage(opts: ListJobsOptions): JobPage {
    return pageOf(opts, (after, limit) => this.#o.store.listJobsPage(after, limit), (e) => this.#present(e));
  }

  /** A job by id or name, as people see it. @throws NotFoundError */
  getJob(ref: string): Job {
    return this.#withTriggers(this.find(ref));
  }

  /** A stored job by id or name. @throws NotFoundError */
  find(ref: string): Job {
    const store = this.#o.store;
    const job = store.getJob(ref) ?? store.getJobByName(ref);
    if (job === null) throw new NotFoundError(`job '${ref}' not found`);
    return job;
  }

  /** A job's runs, newest first. @throws NotFoundError; ValidationError for a bad limit. */
  history(ref: string, limit = 20): Run[] {
    if (!Number.isInteger(limit) || limit < 1) throw new ValidationError('limit: expected a positive integer', 'limit');
    const id = this.find(ref).id;
    const runs = this.#o.store.listRuns(id, limit);
    // A start is not written to the store (only a run's fire and its end are): runs executing now
    // are shown as the scheduler holds them.
    const live = new Map(this.#live.runningOf(id).map((r) => [r.id, r]));
    return live.size === 0 ? runs : runs.map((r) => live.get(r.id) ?? r);
  }

  /** `rae-sched why`: recent slots, next run and what could block the job. */
  why(ref: string): WhyReport {
    const stored = this.find(ref);
    const job = this.#withTriggers(stored);
    const slots = this.#o.store.listSlots(job.id, 20);
    const blockers = explainBlockers({
      job, schedule: this.#schedule(stored), offline: this.#o.mode === 'offline',
      running: this.#live.runningOf(job.id), runningTotal: this.#live.runningCount(), maxConcurrent: this.#o.maxConcurrent,
      missingUpstreams: missingUpstreams(job, (r) => this.#exists(r)),
    });
    return { job, slots, nextRunAt: job.nextRunAt, blockers, triggers: job.triggerStatus ?? [] };
  }

  /** Run statistics of the whole store (rolled up as runs finished: no scan of history). */
  rollup(): RunRollup {
    return this.#o.store.runRollup();
  }

  /** Job counts: the scheduler's index when one runs, else the stored job heads. */
  jobCounts(): JobCounts {
    if (this.#o.live !== undefined) return this.#o.live.jobCounts();
    const c: JobCounts = { total: 0, enabled: 0, paused: 0, done: 0 };
    for (const h of this.#o.store.listHeads()) {
      c.total++;
      if (h.done) c.done++;
      else if (h.enabled) c.enabled++;
      else c.paused++;
    }
    return c;
  }

  /** Id and name of every job, when there are at most `max` (metric labels); else empty. */
  jobNames(max: number): Array<[string, string]> {
    if (this.#o.store.counts().jobs > max) return [];
    return this.#o.store.listHeads().map((h): [string, string] => [h.id, h.name]);
  }

  /** A stored job as people see it, with what each of its triggers did. */
  #withTriggers(stored: Job): Job {
    const job = this.#presentStored(stored);
    const fires = this.#o.store.triggerFires(job.id);
    return { ...job, triggerStatus: triggerStatusOf(job, this.#schedule(stored), fires, (r) => this.#exists(r)) };
  }

  /** Whether a job has this id or name. */
  #exists(ref: string): boolean {
    return (this.#o.store.getJob(ref) ?? this.#o.store.getJobByName(ref)) !== null;
  }

  /** A stored job as people see it, reading its state and newest final run. */
  #presentStored(job: Job): Job {
    const store = this.#o.store;
    return this.#present({ job, state: store.getScheduleState(job.id), lastRun: store.lastFinalRun(job.id) });
  }

  /**
   * A job with its live parts: state, next run, and `lastRun` — its newest run that has started:
   * the newest final one, or a run executing now if it is newer (live facts). A run only queued
   * (fired, a retry waiting for its backoff, a fire committed ahead of its slot) does not count:
   * it has not run yet (docs/jobs.md "Last run"). One rule for every path: runs.ts `lastRunOf`.
   */
  #present({ job, state, lastRun }: JobListEntry): Job {
    return { ...job, nextRunAt: this.#nextRunAt(job, instantsOf(state)), lastRun: this.#newest(job.id, lastRun), state: jobState(job) };
  }

  /**
   * A {@link JobRow} from its job's head: the same columns `#present` makes from the whole
   * job. The spec is read only for what a head lacks and few jobs need: the typed text of a
   * one-time schedule, and the creation time a next fire counts from when no anchor is stored.
   */
  #presentRow({ head, state, lastRun }: JobRowEntry): JobRow {
    const facts = new HeadFacts(head, this.#o.store);
    const row: JobRow = {
      id: head.id, name: head.name, schedule: head.schedule, timezone: head.timezone, state: jobState(facts),
      nextRunAt: this.#nextRunAt(facts, state), lastRun: this.#newest(head.id, lastRun),
    };
    if (ONE_TIME.test(head.schedule)) row.scheduleText = facts.spec()?.scheduleText ?? null;
    return row;
  }

  /** The next fire as people see it. The schedule is parsed only if it must be computed (see nextRunAtOf). */
  #nextRunAt(job: Pick<Job, 'id' | 'enabled' | 'completedAt' | 'createdAt' | 'schedule' | 'timezone'>, state: StateInstants | null): string | null {
    const lazy = { get: () => this.#schedule(job), nextFire: (s: Schedule, after: number, anchor?: number) => this.#schedules.math.nextFire(s, after, anchor) };
    const next = nextRunAtOf(job, lazy, state, this.#o.mode === 'active', this.#o.clock.now());
    return next === null ? null : iso(next);
  }

  /** The stored newest final run, or a run executing now when it is newer: runs.ts `lastRunOf`. */
  #newest<R extends RunTimes>(jobId: string, stored: R | null): R | Run | null {
    return lastRunOf(stored, this.#live.runningOf(jobId));
  }

  /** A stored schedule, parsed in-process and cached (undefined if it no longer parses). */
  #schedule(job: Pick<Job, 'id' | 'schedule' | 'timezone'>): Schedule | undefined {
    return this.#schedules.get(job);
  }
}
