/**
 * The scheduler's persistence **port**: the few coarse, batch operations the hot path needs, in
 * the scheduler's words (fires, finishes, unfinished runs, pages of jobs) and nothing of LMDB.
 * The LMDB store implements it today (`Store`, src/actors/persistence/store.ts); a PostgreSQL
 * adapter shared by several nodes is the next implementation (docs/persistence.md says how each
 * operation maps onto SQL).
 *
 * Rules every implementation keeps:
 * - **One batch, one transaction.** `commitBatch` writes everything it is given atomically and
 *   resolves only once the transaction is durable (on disk / acknowledged by the database's WAL
 *   flush). Nothing is half-written.
 * - **A slot is recorded once.** `(jobId, slot.at)` is a unique key. A fire whose slot is already
 *   recorded by *another* run is reported in `deduped` and writes nothing (its run is not
 *   stored); the same slot with the *same* run id (a batch retried after its reply was lost) is
 *   the batch's own earlier commit and counts as written.
 * - **Records of removed jobs are dropped**, reported in `dropped`, never an error: the scheduler
 *   may have fired a job an instant before it was removed.
 * - Records are built by the scheduler from validated specs, so a batch is NOT re-validated
 *   record by record (the port checks only what the transaction needs, e.g. that a record's
 *   parts name the same job).
 */
import type { Run, Slot } from '../../model/run';
import type { Job } from '../../model/job';
import type { ScheduleState } from './schema';
import type { ClockFrame } from './clock-frame';

/** {@link StartupPage} flags of a row. */
export const PAGE_ENABLED = 1;
export const PAGE_DONE = 2;
/** The job has watch/usage triggers. */
export const PAGE_EVENTS = 4;
/** The job has a stored schedule state. */
export const PAGE_STATE = 8;
/** The stored state is tagged with a clock offset (clock-frame.ts): a clock step moves it without a write. */
export const PAGE_FRAMED = 16;

/**
 * One page of jobs for start-up, column by column: what arming needs of each job (its head and its
 * schedule state's instants, parsed), and its whole spec only where start-up needs more (an active
 * job whose next slot is unknown or past, or one with watch/usage triggers). Columns of strings
 * and typed arrays cross a thread boundary far cheaper than one object per job, and the instants
 * arrive parsed (the store's side of start-up does that work beside the scheduler's).
 */
export interface StartupPage {
  /** Job ids, in id order. */
  ids: string[];
  names: string[];
  /** PAGE_* bits. */
  flags: Uint8Array;
  jitterMs: Float64Array;
  /** The schedule state's watermark, next slot and anchor, epoch ms (NaN: none). */
  last: Float64Array;
  next: Float64Array;
  anchor: Float64Array;
  /** Row → index into `schedules` of its canonical schedule and zone; -1: the head carries none. */
  schedule: Int32Array;
  /** The distinct schedules of the page. */
  schedules: Array<{ schedule: string; timezone: string | null }>;
  /** `--after` upstreams of the rows that have any. */
  after: Array<[row: number, upstream: string[]]>;
  /** Whole specs of the rows that need them. */
  jobs: Array<[row: number, job: Job]>;
}

/** One fire: the slot's durable outcome and, when it runs, its run (status `queued`). */
export interface FireRecord {
  slot: Slot;
  run: Run | null;
  /**
   * Interval schedules: the clock offset the slot's time was computed at (clock-frame.ts), stored
   * with the slot so a clock step moves the watermark derived from it without a write.
   */
  offsetMs?: number;
}

/**
 * Everything one turn of the scheduler wants durable, written in ONE transaction: slot outcomes
 * with their runs, runs without a slot (manual, event, dependency, retries), final statuses of
 * finished runs, and the schedule states the batch moved.
 */
export interface Batch {
  fires: FireRecord[];
  /** Upserted by id: new queued runs without a slot, and finished runs' final records. */
  runs: Run[];
  /** Latest schedule state of each job the batch touched. */
  states: ScheduleState[];
  /**
   * Runs that never started when the scheduler stopped gracefully: the next start queues them
   * again (any other unfinished run is `interrupted`: it may have started).
   */
  parked?: string[];
  /**
   * Slot outcomes revised after a fire committed ahead of its slot was withdrawn at its time (the
   * overlap policy skipped it, or the job was paused first). A revision overwrites the stored slot
   * only while that slot still names the same run; it is written after the batch's fires.
   */
  revised?: Slot[];
  /**
   * The clock steps handled (clock-frame.ts), written when newer than the stored record: present
   * in every batch from a step on until one carrying it is durable.
   */
  clock?: ClockFrame;
  /** Where the batch stands in its writer's sequence (committer.ts): see {@link BatchOrder}. */
  order?: BatchOrder;
}

/**
 * The scheduler's batches in flight are written in the order sent, but one may fail while the
 * next one is already on its way. `after` names the batch sent just before this one and still
 * unanswered: unless the store's last durable batch is that one (or a later one) of the same
 * `writer`, this batch is refused (a PersistenceError: the committer retries both, in order).
 * Without it a later fire of a job could be durable while an earlier one is not, and since the
 * watermark is the newest slot (fire-layout.ts), a crash before the retry would leave the earlier
 * slot with no outcome at all.
 */
export interface BatchOrder {
  /** Random per committer: sequences of different scheduler incarnations never match. */
  writer: number;
  seq: number;
  /** The `seq` that must be durable before this batch; null: none in flight when it was sent. */
  after: number | null;
}

/** What a commit did not write, and why. */
export interface BatchResult {
  /** Slots another run already holds: their run never existed in the store and must not run. */
  deduped: Array<{ jobId: string; at: string }>;
  /** Job ids whose records were dropped because the job is gone. */
  dropped: string[];
}

/** An unfinished run found at start-up, with whether the last scheduler parked it unstarted. */
export interface UnfinishedRun {
  run: Run;
  parked: boolean;
}

/**
 * A fault the store's test hook injects into its next commits: `fail` throws a PersistenceError
 * before anything is written; `die` ends the persistence thread before it writes the batch;
 * `exit` ends it after the batch is durable but before it answers; `slow` commits only after `ms`
 * of real time (the caller's ask may time out first, and retry a batch that lands after all).
 * (A crash of the whole process in the middle of a commit is tested with `kill -9`: a thread that
 * dies inside an LMDB write transaction would leave the process's environment locked.)
 * @internal for tests
 */
export interface InjectedFault {
  mode: 'fail' | 'die' | 'exit' | 'slow';
  /** `slow`: real milliseconds before the commit starts. */
  ms?: number;
  /** How many commits it hits. @default 1 */
  times?: number;
  /** Only commits carrying these kinds of records. @default any commit */
  when?: 'fires' | 'finishes' | 'any';
}

/** A value now (LMDB reads are synchronous snapshots) or later (a network store). */
export type Awaitable<T> = T | Promise<T>;

/** The operations the scheduler's hot path uses. */
export interface SchedulerStorePort {
  /** Writes a batch in one durable transaction (see the rules above). */
  commitBatch(batch: Batch): Promise<BatchResult>;
  /** Runs stored `queued` or `running`: what a stop or crash left unfinished. */
  unfinishedRuns(): Awaitable<UnfinishedRun[]>;
  /** The specs of these jobs (missing ones left out), in one read. */
  getJobs(ids: string[]): Awaitable<Job[]>;
  /** A page of jobs in id order after `after`, with schedule states (start-up). */
  jobPage(after: string | null, limit: number, now: number): Awaitable<StartupPage>;
  /** The clock steps handled so far (clock-frame.ts). */
  clockFrame(): Awaitable<ClockFrame>;
}
