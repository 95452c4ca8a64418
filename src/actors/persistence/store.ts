/**
 * The durable store of jobs, runs, slots and schedule state on LMDB. Usable directly (a CLI process,
 * a test) or behind the persistence actor, on the main thread or in a worker thread.
 * This file is the Store's public face, one method an operation; the environment's read/write
 * discipline and opening live in store-env.ts (migrations: store-open.ts), the direct writes'
 * transaction bodies in store-writes.ts, the paged reads in store-pages.ts.
 */
import { NotFoundError, PersistenceError, ValidationError } from '../../errors';
import type { BackupDocument } from '../../model';
import type { Job } from '../../model/job';
import type { Run, Slot } from '../../model/run';
import type { TriggerFireNote } from '../../model/trigger-status';
import { applyTriggerFires, readTriggerFires, type StoredTriggerFire } from './trigger-fires';
import type { ScheduleState } from './schema';
import { backupModule, check } from './checks';
import { entryCount, newestFirst, putStateTx, type JobHead, type Tables } from './tables';
import { deleteJobData, pruneHistory, type PruneResult } from './retention';
import { CLOCK_FENCE_KEY, CLOCK_SEQ_KEY, inFrame, type ClockFrame } from './clock-frame';
import { listRowsTx, type JobRowEntry } from './list-rows';
import { checkBatch, unfinishedRunsTx, writeBatchTx } from './batches';
import { derivedState, lastFinalRun, runById, runsInFlightOnly, runsOf, unfinishedRuns } from './fire-layout';
import type { Batch, BatchResult, InjectedFault, StartupPage, SchedulerStorePort, UnfinishedRun } from './port';
import { emptyRollup, GLOBAL_KEY, type RunRollup } from './rollup';
import { rebuildRollups, rollupOfJob } from './rollup-pending';
import { StoreEnv, type StoreOptions } from './store-env';
import { insertJobsTx, insertJobTx, putOwnRunTx, recordFireTx, requireJobTx, updateJobTx } from './store-writes';
import { jobPageTx, listJobsPageTx, type JobListEntry } from './store-pages';

export type { ScheduleState } from './schema';
export type { PruneResult } from './retention';
export type { RunRollup } from './rollup';
export type { JobRowEntry } from './list-rows';
export type { JobListEntry } from './store-pages';

export type { StoreOptions } from './store-env';
export type { StartupPage } from './port';

/** Sizes of the store, for `stats` and tests. */
export interface StoreCounts {
  jobs: number;
  runs: number;
  slots: number;
  schemaVersion: number;
}

/**
 * The store. Every write runs in ONE LMDB child transaction (all or nothing: a callback that throws
 * rolls back what it wrote) and resolves only after that commit is flushed to disk — lmdb-js resolves
 * a commit before the flush under its default overlappingSync, so each write awaits `flushed`.
 * Reads are synchronous snapshots.
 *
 * Several processes may open the same directory at once (a daemon and a CLI command): LMDB's lock
 * file serialises writers and every reader sees the latest commit on its next event-loop turn.
 * @example
 * const store = await Store.open({ dataDir: '/var/lib/rae' });
 * try { console.log(store.listJobs()); } finally { await store.close(); }
 */
export class Store implements SchedulerStorePort {
  readonly #env: StoreEnv;
  /** The env's tables (`this.#env.t`), read and written only inside its `read` and `write`. */
  readonly #t: Tables;
  /** Faults a test asked for (see {@link injectFault}). */
  #faults: InjectedFault[] = [];

  private constructor(env: StoreEnv) {
    this.#env = env;
    this.#t = env.t;
  }

  /**
   * Opens (creating if needed, unless `readOnly`) the store of a data directory and checks its
   * schema version (store-env.ts).
   * @throws PersistenceError when the store cannot be opened, was written by a newer version, or
   * (read-only) does not exist.
   */
  static async open(opts: StoreOptions): Promise<Store> {
    return new Store(await StoreEnv.open(opts));
  }

  /** Schema version of the store (0: empty store opened read-only). */
  get schemaVersion(): number {
    return this.#env.schemaVersion;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#env.closed;
  }

  /** Refuses new calls, waits for writes in flight, then closes the environment. Idempotent. */
  async close(): Promise<void> {
    await this.#env.close();
  }

  /**
   * Stores a new job (with its first schedule state, in the same transaction, when given).
   * @throws ConflictError if its name (or id) is taken; ValidationError if it is malformed.
   */
  async insertJob(job: Job, state?: ScheduleState): Promise<void> {
    const j = check.job(job, 'job');
    const st = state === undefined ? undefined : check.scheduleState(state, 'state');
    if (st !== undefined && st.jobId !== j.id) throw new ValidationError(`state.jobId: expected '${j.id}' (the job's id)`, 'state.jobId');
    return await this.#env.write(() => insertJobTx(this.#t, j, st));
  }

  /**
   * Stores many new jobs (each with its first schedule state) in ONE transaction, resolved once
   * flushed: concurrent `addJob` callers share the commit (group commit). Jobs come from the
   * scheduler, validated where they entered (`fillJobSpec`), so only their shape is checked here.
   * A job whose name or id is taken is refused alone (its message in the answer, in order); the
   * others are written.
   * @throws PersistenceError if the transaction fails (then nothing is written).
   */
  async insertJobs(entries: Array<{ job: Job; state?: ScheduleState }>): Promise<Array<string | null>> {
    if (!Array.isArray(entries)) throw new ValidationError('entries: expected an array of { job, state }', 'entries');
    for (const [i, e] of entries.entries()) {
      if (typeof e?.job?.id !== 'string' || typeof e.job.name !== 'string' || (e.state !== undefined && e.state?.jobId !== e.job.id)) {
        throw new ValidationError(`entries[${i}]: expected a job with id and name, and its own state`, `entries[${i}]`);
      }
    }
    return await this.#env.write(() => insertJobsTx(this.#t, entries));
  }

  /**
   * Replaces a stored job, moving its name index entry on rename.
   * @throws NotFoundError if it does not exist; ConflictError if renamed to a taken name.
   */
  async updateJob(job: Job): Promise<void> {
    const j = check.job(job, 'job');
    return await this.#env.write(() => updateJobTx(this.#t, j));
  }

  /** The job with this id, or null. */
  getJob(id: string): Job | null {
    return this.#env.read(() => this.#t.jobs.get(id) ?? null);
  }

  /** The job with this name, or null. */
  getJobByName(name: string): Job | null {
    return this.#env.read(() => {
      const id = this.#t.jobNames.get(name);
      return id === undefined ? null : (this.#t.jobs.get(id) ?? null);
    });
  }

  /** All jobs in creation order (`createdAt`, then id). */
  listJobs(): Job[] {
    return this.#env.read(() => {
      const jobs = [...this.#t.jobs.getRange({}).map(({ value }) => value)];
      return jobs.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
    });
  }

  /**
   * Deletes a job with its runs, slots and schedule state, in bounded batches; the job record goes
   * in the last batch, so an interrupted delete leaves the job visible and a retry finishes it.
   * @throws NotFoundError if it does not exist.
   */
  async deleteJob(id: string): Promise<void> {
    if (this.getJob(id) === null) throw new NotFoundError(`no job with id ${id}`);
    await deleteJobData(this.#t, (fn) => this.#env.write(fn), id);
  }

  /**
   * Inserts or replaces a run (by `run.id`), keeping the unfinished-runs index right.
   * @throws NotFoundError if its job does not exist; ConflictError if the id belongs to another job's run.
   */
  async putRun(run: Run): Promise<void> {
    const r = check.run(run, 'run');
    return await this.#env.write(() => {
      requireJobTx(this.#t, r.jobId);
      putOwnRunTx(this.#t, r);
    });
  }

  /** The run with this id, or null. */
  getRun(id: string): Run | null {
    return this.#env.read(() => runById(this.#t, id) ?? null);
  }

  /** Runs of a job, newest first. */
  listRuns(jobId: string, limit?: number): Run[] {
    return this.#env.read(() => runsOf(this.#t, jobId, limit));
  }

  /** The job's newest run with a final outcome, or null (`lastRun`: fire-layout.ts `lastFinalRun`). */
  lastFinalRun(jobId: string): Run | null {
    return this.#env.read(() => lastFinalRun(this.#t, jobId));
  }

  /** Runs still `queued` or `running` — after a crash, the ones to mark `interrupted`. */
  listUnfinishedRuns(): Run[] {
    return this.#env.read(() => unfinishedRuns(this.#t));
  }

  /**
   * Records a slot's outcome (upsert by `(jobId, at)`: a slot has one outcome).
   * @throws NotFoundError if its job does not exist.
   */
  async putSlot(slot: Slot): Promise<void> {
    const s = check.slot(slot, 'slot');
    return await this.#env.write(() => {
      requireJobTx(this.#t, s.jobId);
      void this.#t.slots.put([s.jobId, s.at], s);
    });
  }

  /** The slot of a job at a nominal time, or null. */
  getSlot(jobId: string, at: string): Slot | null {
    return this.#env.read(() => this.#t.slots.get([jobId, at]) ?? null);
  }

  /** Slots of a job, newest first. */
  listSlots(jobId: string, limit?: number): Slot[] {
    return this.#env.read(() => [...this.#t.slots.getRange(newestFirst(jobId, limit)).map(({ value }) => value)]);
  }

  /** A job's schedule state, or null. */
  getScheduleState(jobId: string): ScheduleState | null {
    // Read in today's clock frame (clock-frame.ts), then with the watermark derived from the slots.
    return this.#env.read(() => {
      const s = this.#t.states.get(jobId);
      return derivedState(this.#t, s === undefined ? null : inFrame(s, this.#env.clockOffset()), this.#env.slotFrame());
    });
  }

  /**
   * Replaces a job's schedule state.
   * @throws NotFoundError if its job does not exist.
   */
  async putScheduleState(state: ScheduleState): Promise<void> {
    const st = check.scheduleState(state, 'state');
    return await this.#env.write(() => {
      requireJobTx(this.#t, st.jobId);
      putStateTx(this.#t, st);
    });
  }

  /** Many schedule states in ONE transaction (one flush): the scheduler arms thousands at start-up. */
  async putScheduleStates(states: ScheduleState[]): Promise<void> {
    const all = states.map((st, i) => check.scheduleState(st, `states[${i}]`));
    return await this.#env.write(() => {
      for (const st of all) {
        requireJobTx(this.#t, st.jobId);
        putStateTx(this.#t, st);
      }
    });
  }

  /**
   * Folds trigger fire notes into each trigger's record, in one transaction (notes of removed jobs
   * are dropped). Resolves with how many were written.
   */
  async recordTriggerFires(notes: TriggerFireNote[]): Promise<number> {
    if (!Array.isArray(notes) || notes.length === 0) return 0;
    return await this.#env.write(() => applyTriggerFires(this.#t, notes));
  }

  /** A job's trigger fire records by trigger key (index or `reboot`). */
  triggerFires(jobId: string): Map<string, StoredTriggerFire> {
    return this.#env.read(() => readTriggerFires(this.#t, jobId));
  }

  /**
   * Records a fire in ONE transaction: the slot, its run (if any) and the job's new schedule state,
   * so a crash never leaves one without the others.
   * @throws ConflictError if the slot is already recorded — no slot ever runs twice, even across a
   * crash and restart; NotFoundError if the job does not exist; ValidationError if the parts disagree.
   */
  async recordFire(slot: Slot, run: Run | null, state: ScheduleState): Promise<void> {
    const s = check.slot(slot, 'slot');
    const r = run === null ? null : check.run(run, 'run');
    const st = check.scheduleState(state, 'state');
    if (r !== null && r.jobId !== s.jobId) {
      throw new ValidationError(`run.jobId: run is for job ${r.jobId}, the slot for ${s.jobId}`, 'run.jobId');
    }
    if (st.jobId !== s.jobId) {
      throw new ValidationError(`state.jobId: state is for job ${st.jobId}, the slot for ${s.jobId}`, 'state.jobId');
    }
    return await this.#env.write(() => recordFireTx(this.#t, s, r, st));
  }

  /**
   * Deletes history beyond the newest `keepRunsPerJob` runs and `keepSlotsPerJob` slots of each job,
   * in bounded batches. Unfinished runs are never deleted.
   */
  async prune(keepRunsPerJob: number, keepSlotsPerJob: number): Promise<PruneResult> {
    this.#env.assertOpen();
    return await pruneHistory(this.#t, (fn) => this.#env.write(fn), keepRunsPerJob, keepSlotsPerJob);
  }

  /** The whole store as one JSON document, from one read snapshot. */
  backup(createdAt: string = new Date().toISOString()): BackupDocument {
    return this.#env.read(() => backupModule().exportDocument(this.#t, createdAt));
  }

  /**
   * Replaces the whole store with a backup document. The WHOLE document is validated first; any bad
   * part throws a ValidationError naming its path and nothing changes. Then one transaction.
   */
  async restore(doc: unknown): Promise<{ jobs: number; runs: number }> {
    this.#env.assertOpen();
    const result = await backupModule().importDocument(this.#t, (fn) => this.#env.write(fn), doc);
    await this.#env.write(() => rebuildRollups(this.#t));
    return result;
  }

  /** Entry counts and schema version. */
  counts(): StoreCounts {
    return this.#env.read(() => ({
      jobs: entryCount(this.#t.jobs),
      runs: entryCount(this.#t.runs) + runsInFlightOnly(this.#t),
      slots: entryCount(this.#t.slots),
      schemaVersion: this.#env.schemaVersion,
    }));
  }

  /**
   * One page of jobs in id order after `afterId` (exclusive), as columns (see {@link StartupPage}). The
   * scheduler loads its index page by page at start-up, so a million jobs never cross the thread
   * boundary in one message.
   */
  jobPage(afterId: string | null, limit: number, now: number): StartupPage {
    return this.#env.read(() => jobPageTx(this.#t, afterId, limit, now, this.#env.clockOffset(), this.#env.slotFrame()));
  }

  /**
   * Run statistics rolled up as runs finished: of one job, or (no argument) of the whole store.
   * Two small reads, whatever the history (see rollup.ts for the histogram's precision).
   */
  runRollup(jobId?: string): RunRollup {
    return this.#env.read(() => (jobId === undefined ? this.#t.stats.get(GLOBAL_KEY) ?? emptyRollup() : rollupOfJob(this.#t, jobId)));
  }

  /**
   * Up to `limit` jobs in id order (ids sort by creation time) after `afterId` (exclusive), each with
   * its schedule state and newest final run, and whether more jobs follow. All from ONE read snapshot: a
   * page of 50 touches about 150 records, whatever the store holds.
   */
  listJobsPage(afterId: string | null, limit: number): { entries: JobListEntry[]; more: boolean } {
    return this.#env.read(() => listJobsPageTx(this.#t, afterId, limit, this.#env.clockOffset(), this.#env.slotFrame()));
  }

  /**
   * Up to `limit` jobs after `afterId` (exclusive) in id order, with what `list`'s table shows of
   * each (list-rows.ts: heads, the newest run's status and times, no spec decoded), and whether
   * more follow; from ONE read snapshot.
   */
  listRowsPage(afterId: string | null, limit: number): { entries: JobRowEntry[]; more: boolean } {
    return this.#env.read(() => listRowsTx(this.#t, { offsetMs: this.#env.clockOffset(), slots: this.#env.slotFrame() }, afterId, limit));
  }

  /** Every job's head (id order), for counts and names without reading whole specs. */
  listHeads(): JobHead[] {
    return this.#env.read(() => [...this.#t.heads.getRange({}).map(({ value }) => value)]);
  }

  // ---- the port's batch operations (port.ts) ------------------------------------------------

  /**
   * Writes a whole batch — fires with their runs, other runs, final records, schedule states — in
   * ONE transaction, resolved once flushed. Several batches in flight at once (the persistence
   * actor takes several messages at a time) are written by lmdb in one commit and one flush.
   */
  async commitBatch(batch: Batch): Promise<BatchResult> {
    const b = checkBatch(batch);
    const fault = this.#takeFault(b);
    if (fault?.mode === 'fail') throw new PersistenceError('store write failed: injected fault (test)');
    if (fault?.mode === 'slow') await new Promise((r) => setTimeout(r, fault.ms ?? 1000));
    // The thread dies holding the batch, before writing it.
    if (fault?.mode === 'die') process.exit(70);
    const result = await this.#env.write(() => writeBatchTx(this.#t, b));
    // The thread dies after the commit is on disk, before anyone hears of it: the retry must find
    // its own slots (same run ids) and count them as written, not deduped.
    if (fault?.mode === 'exit') process.exit(70);
    return result;
  }

  /** Runs stored `queued` or `running`, each with whether a graceful stop parked it. */
  unfinishedRuns(): UnfinishedRun[] {
    return this.#env.read(() => unfinishedRunsTx(this.#t));
  }

  /** Specs of these jobs in one read (missing ones are left out). */
  getJobs(ids: string[]): Job[] {
    return this.#env.read(() => ids.flatMap((id) => {
      const j = this.#t.jobs.get(id);
      return j === undefined ? [] : [j];
    }));
  }

  /**
   * Test hook: the next matching commits fail, end the thread mid-transaction, or hang.
   * @internal for tests
   */
  injectFault(fault: InjectedFault): void {
    this.#faults.push({ times: 1, when: 'any', ...fault });
  }

  #takeFault(b: Batch): InjectedFault | null {
    const finishes = b.runs.some((r) => r.finishedAt !== null);
    const i = this.#faults.findIndex((f) => f.when === 'any' || (f.when === 'fires' ? b.fires.length > 0 : finishes));
    if (i < 0) return null;
    const f = this.#faults[i]!;
    f.times = (f.times ?? 1) - 1;
    if (f.times <= 0) this.#faults.splice(i, 1);
    return f;
  }

  /** The clock steps handled so far (clock-frame.ts): the scheduler's start-up reads it. */
  clockFrame(): ClockFrame {
    return this.#env.read(() => {
      const frame: ClockFrame = { seq: this.#t.meta.get(CLOCK_SEQ_KEY) ?? 0, offsetMs: this.#env.clockOffset() };
      const fence = this.#t.meta.get(CLOCK_FENCE_KEY);
      if (fence !== undefined) frame.fenceMs = fence;
      return frame;
    });
  }
}
