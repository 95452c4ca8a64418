/**
 * The persistence actor's handlers: the {@link Store} behind one-payload, structured-clonable
 * messages, so the runtime can host it on the main thread or in a worker thread
 * (`placement: 'thread'`). Errors are SchedulerError subclasses; the runtime carries
 * their `code` across the thread boundary.
 */
import { ValidationError } from '../../errors';
import type { BackupDocument } from '../../model';
import type { Job } from '../../model/job';
import type { Run, Slot } from '../../model/run';
import type { TriggerFireNote } from '../../model/trigger-status';
import type { ScheduleState } from './schema';
import { Store, type StartupPage, type StoreCounts } from './store';
import type { BatchResult, InjectedFault, UnfinishedRun } from './port';
import { fromWire, type WireBatch } from './run-tuples';
import type { PruneResult } from './retention';
import type { ClockFrame } from './clock-frame';
import { STOP_HANDLER } from '../../runtime/types';
import { ignoreLmdbCommitRejections } from './lmdb-rejections';

export type { ScheduleState } from './schema';

/** Init payload of the persistence actor. */
export interface PersistenceInit {
  /** Data directory; the store lives in `<dataDir>/store`. */
  dataDir: string;
}

/** The persistence actor's messages and replies (each handler takes ONE payload object). */
// A type alias, not an interface: the runtime's Handlers needs the implicit index signature.
export type PersistenceHandlers = {
  /** @throws ConflictError if the name is taken. */
  insertJob(p: { job: Job; state?: ScheduleState }): Promise<void>;
  /**
   * Many new jobs in ONE transaction (group commit of concurrent adds); per job, in order, null
   * or the message of the conflict that refused it.
   */
  insertJobs(p: { entries: Array<{ job: Job; state?: ScheduleState }> }): Promise<Array<string | null>>;
  /** @throws NotFoundError if missing; ConflictError if renamed to a taken name. */
  updateJob(p: { job: Job }): Promise<void>;
  getJob(p: { id: string }): Job | null;
  getJobByName(p: { name: string }): Job | null;
  /** By creation order. */
  listJobs(p: Record<string, never>): Job[];
  /** Also deletes its runs, slots and schedule state (bounded batches). @throws NotFoundError */
  deleteJob(p: { id: string }): Promise<void>;
  /** Upsert by `run.id`. @throws NotFoundError if its job is missing. */
  putRun(p: { run: Run }): Promise<void>;
  getRun(p: { id: string }): Run | null;
  /** Newest first. */
  listRuns(p: { jobId: string; limit?: number }): Run[];
  /** The job's newest run with a final outcome, or null (`lastRun`). */
  lastFinalRun(p: { jobId: string }): Run | null;
  /** Status queued/running — for crash recovery (→ interrupted). */
  listUnfinishedRuns(p: Record<string, never>): Run[];
  /** Upsert by `(jobId, at)`. @throws NotFoundError if its job is missing. */
  putSlot(p: { slot: Slot }): Promise<void>;
  getSlot(p: { jobId: string; at: string }): Slot | null;
  /** Newest first. */
  listSlots(p: { jobId: string; limit?: number }): Slot[];
  getScheduleState(p: { jobId: string }): ScheduleState | null;
  /** The port's group commit: a whole batch in ONE durable transaction (port.ts); its runs may travel as tuples (run-tuples.ts). */
  commitBatch(p: { batch: WireBatch }): Promise<BatchResult>;
  /** Unfinished runs with their parked flag (start-up recovery). */
  unfinishedRuns(p: Record<string, never>): UnfinishedRun[];
  /** Specs of these jobs, in one read. */
  getJobs(p: { ids: string[] }): Job[];
  /** Test hook: the next matching commits fail, end the thread mid-commit, or hang. @internal */
  injectFault(p: InjectedFault): void;
  /** Slot + run + schedule state in ONE transaction. @throws ConflictError if the slot exists. */
  recordFire(p: { slot: Slot; run: Run | null; state: ScheduleState }): Promise<void>;
  putScheduleState(p: { jobId: string; state: ScheduleState }): Promise<void>;
  /** Trigger fires noted on their fire path, folded into each trigger's record in one transaction. */
  recordTriggerFires(p: { notes: TriggerFireNote[] }): Promise<number>;
  /** Many states in one transaction. */
  putScheduleStates(p: { states: ScheduleState[] }): Promise<void>;
  /** Bounded batches; unfinished runs are kept. */
  prune(p: { keepRunsPerJob: number; keepSlotsPerJob: number }): Promise<PruneResult>;
  backup(p: { createdAt?: string }): BackupDocument;
  /** Validates the whole document first (ValidationError naming the path, nothing changed). */
  restore(p: { doc: unknown }): Promise<{ jobs: number; runs: number }>;
  counts(p: Record<string, never>): StoreCounts;
  /** A page of jobs (id order) with their schedule states, after `after` (exclusive). */
  jobPage(p: { after: string | null; limit: number; now: number }): StartupPage;
  /** The clock steps handled so far (clock-frame.ts): read once at start-up. */
  clockFrame(p: Record<string, never>): ClockFrame;
  close(p: Record<string, never>): Promise<void>;
  /** Called by the runtime when the actor stops gracefully: waits for writes, closes the store. */
  /** Answers at once: the mailbox is being served (health's heartbeat). */
  heartbeat(p: Record<string, never>): true;
  [STOP_HANDLER](): Promise<void>;
};

/**
 * Opens the store of `init.dataDir` and returns the handlers over it.
 * @throws PersistenceError if the store cannot be opened (or has a newer schema).
 * @example
 * const h = await createPersistenceHandlers({ dataDir });
 * await h.insertJob({ job });
 * h.listRuns({ jobId: job.id, limit: 20 });
 */
export async function createPersistenceHandlers(init: PersistenceInit): Promise<PersistenceHandlers> {
  ignoreLmdbCommitRejections();
  const store = await Store.open({ dataDir: text(init?.dataDir, 'dataDir') });
  return {
    insertJob: async (p) => store.insertJob(p?.job, p?.state),
    insertJobs: async (p) => store.insertJobs(p?.entries),
    updateJob: async (p) => store.updateJob(p?.job),
    getJob: (p) => store.getJob(text(p?.id, 'id')),
    getJobByName: (p) => store.getJobByName(text(p?.name, 'name')),
    listJobs: () => store.listJobs(),
    deleteJob: async (p) => store.deleteJob(text(p?.id, 'id')),
    putRun: async (p) => store.putRun(p?.run),
    getRun: (p) => store.getRun(text(p?.id, 'id')),
    listRuns: (p) => store.listRuns(text(p?.jobId, 'jobId'), limit(p?.limit)),
    lastFinalRun: (p) => store.lastFinalRun(text(p?.jobId, 'jobId')),
    listUnfinishedRuns: () => store.listUnfinishedRuns(),
    putSlot: async (p) => store.putSlot(p?.slot),
    getSlot: (p) => store.getSlot(text(p?.jobId, 'jobId'), text(p?.at, 'at')),
    listSlots: (p) => store.listSlots(text(p?.jobId, 'jobId'), limit(p?.limit)),
    getScheduleState: (p) => store.getScheduleState(text(p?.jobId, 'jobId')),
    commitBatch: async (p) => store.commitBatch(fromWire(p?.batch)),
    unfinishedRuns: () => store.unfinishedRuns(),
    getJobs: (p) => store.getJobs(Array.isArray(p?.ids) ? p.ids : []),
    injectFault: (p) => store.injectFault(p),
    recordFire: async (p) => store.recordFire(p?.slot, p?.run ?? null, p?.state),
    putScheduleStates: async (p) => store.putScheduleStates(p.states),
    recordTriggerFires: async (p) => store.recordTriggerFires(p?.notes),
    putScheduleState: async (p) => {
      if (p?.state?.jobId !== p?.jobId) {
        throw new ValidationError(`state.jobId: expected '${String(p?.jobId)}' (the jobId of the message)`, 'state.jobId');
      }
      await store.putScheduleState(p.state);
    },
    prune: async (p) => store.prune(p?.keepRunsPerJob, p?.keepSlotsPerJob),
    backup: (p) => store.backup(p?.createdAt),
    restore: async (p) => store.restore(p?.doc),
    counts: () => store.counts(),
    jobPage: ({ after, limit, now }) => store.jobPage(after, limit, now),
    clockFrame: () => store.clockFrame(),
    close: async () => store.close(),
    heartbeat: () => true,
    [STOP_HANDLER]: async () => store.close(),
  };
}

function text(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') throw new ValidationError(`${field}: expected a non-empty string`, field);
  return v;
}

function limit(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ValidationError('limit: expected a positive integer', 'limit');
  }
  return v;
}
