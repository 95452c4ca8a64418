/**
 * The durable store of jobs, runs, slots and schedule state on LMDB. Usable directly (a CLI process,
 * a test) or behind the persistence actor, on the main thread or in a worker thread.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConflictError, NotFoundError, PersistenceError, SchedulerError, ValidationError } from '../../errors';
import type { BackupDocument } from '../../model';
import type { Job } from '../../model/job';
import type { Run, Slot } from '../../model/run';
import type { TriggerFireNote } from '../../model/trigger-status';
import { applyTriggerFires, readTriggerFires, type StoredTriggerFire } from './trigger-fires';
import type { ScheduleState } from './schema';
import { backupModule, check } from './checks';
import {
  entryCount, HEADS_WITH_STATE, headOf, newestFirst, openTables, putHeadTx, putNewJobTx, putStateTx, SCHEMA_KEY, SCHEMA_VERSION, SLOTS_TAGGED, storePath, type JobHead, type Tables,
} from './tables';
import { deleteJobData, pruneHistory, type PruneResult } from './retention';
import { checkStoreFiles } from './store-check';
import { headStateOf, stateInstants, stateShift } from './codecs';
import { CLOCK_FENCE_KEY, CLOCK_OFFSET_KEY, CLOCK_SEQ_KEY, CLOCK_SLOT_BASE_KEY, inFrame, type ClockFrame } from './clock-frame';
import { writeFailure } from './store-errors';
import { listRowsTx, type JobRowEntry } from './list-rows';
import { checkBatch, putRunTx, unfinishedRunsTx, writeBatchTx } from './batches';
import { STATE_LOOKAHEAD_MS, derivedState, heldJobOf, lastFinalRun, newestSlotAt, runById, runsInFlightOnly, runsOf, unfinishedRuns, type SlotFrame } from './fire-layout';
import { PAGE_DONE, PAGE_ENABLED, PAGE_EVENTS, PAGE_FRAMED, PAGE_STATE, type Batch, type BatchResult, type InjectedFault, type StartupPage, type SchedulerStorePort, type UnfinishedRun } from './port';
import { emptyRollup, GLOBAL_KEY, ROLLUP_META_KEY, ROLLUP_VERSION, type RunRollup } from './rollup';
import { rebuildRollups, rollupOfJob } from './rollup-pending';

export type { ScheduleState } from './schema';
export type { PruneResult } from './retention';
export type { RunRollup } from './rollup';
export type { JobRowEntry } from './list-rows';

/**
 * Inside the migration's transaction: every head (whole but stateless: schema 2–6) rewritten with
 * its job's state, reading only these two tables (not every job spec). The heads are read first,
 * removed, then written again in key order: rewritten in place, each grown value split its page
 * and left the table at half fill (57k leaf pages for a million heads instead of 36k, and start-up
 * reads every one of them).
 */
function addStatesToHeads(t: Tables): void {
  const heads = [...t.heads.getRange({})];
  for (const { key } of heads) void t.heads.remove(key);
  // States are keyed like heads: one cursor walking beside them (a merge join).
  const states = t.states.getRange({})[Symbol.iterator]();
  let st = states.next();
  try {
    for (const { key, value } of heads) {
      while (!st.done && st.value.key < key) st = states.next();
      const state = !st.done && st.value.key === key ? st.value.value : null;
      void t.heads.put(key, { ...value, state: state === null ? null : headStateOf(state) });
    }
  } finally {
    states.return?.();
  }
}

/** Options of {@link Store.open}. */
export interface StoreOptions {
  /** Data directory; the LMDB environment lives in `<dataDir>/store`. */
  dataDir: string;
  /** Open without write access (no schema record is written; every write throws). @default false */
  readOnly?: boolean;
}

export type { StartupPage } from './port';

/** A job as `list` shows it: the job, its schedule state and its newest final run (fire-layout.ts `lastFinalRun`). */
export interface JobListEntry {
  job: Job;
  state: ScheduleState | null;
  lastRun: Run | null;
}

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
  readonly #t: Tables;
  readonly #readOnly: boolean;
  readonly #schemaVersion: number;
  #closed = false;
  /** Writes in flight: close() lets them finish (and flush) before it closes the environment. */
  readonly #pending = new Set<Promise<unknown>>();
  /** Faults a test asked for (see {@link injectFault}). */
  #faults: InjectedFault[] = [];

  private constructor(t: Tables, readOnly: boolean, schemaVersion: number) {
    this.#t = t;
    this.#readOnly = readOnly;
    this.#schemaVersion = schemaVersion;
  }

  /**
   * Opens (creating if needed, unless `readOnly`) the store of a data directory and checks its
   * schema version.
   * @throws PersistenceError when the store cannot be opened, was written by a newer version, or
   * (read-only) does not exist.
   */
  static async open(opts: StoreOptions): Promise<Store> {
    const readOnly = opts.readOnly ?? false;
    const where = storePath(opts.dataDir);
    if (readOnly && !fs.existsSync(path.join(where, 'data.mdb'))) {
      throw new PersistenceError(`no store at ${where} (nothing to open read-only)`);
    }
    // Refuse what LMDB would crash on or silently replace (truncated, zeroed, wrong kind of file).
    checkStoreFiles(opts.dataDir, { readOnly });
    let t: Tables;
    try {
      t = openTables(opts.dataDir, readOnly);
    } catch (err) {
      throw new PersistenceError(`cannot open store at ${where}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const found = t.meta.get(SCHEMA_KEY);
      if (found !== undefined && (typeof found !== 'number' || found > SCHEMA_VERSION)) {
        throw new PersistenceError(
          `store at ${where} has schema version ${String(found)}, newer than this rae-scheduler ` +
            `understands (${SCHEMA_VERSION}); upgrade rae-scheduler or restore a backup into an empty data directory`,
        );
      }
      let version = found ?? 0;
      if (!readOnly && found === undefined) {
        // Checked again inside the write lock: two processes may create the same store at once.
        version = await t.env.childTransaction(() => {
          const now = t.meta.get(SCHEMA_KEY);
          if (now === undefined) void t.meta.put(SCHEMA_KEY, SCHEMA_VERSION);
          return now ?? SCHEMA_VERSION;
        });
        await t.env.flushed;
      }
      // Migration, in ONE transaction with the new version record (a crash leaves the old store as
      // it was, migrated again at the next open):
      // - heads: stores written before the heads table existed (or before heads carried the
      //   schedule or, schema 7, the state; or by a crash between versions), or by schema version 1
      //   (msgpack heads and states): the heads rebuilt, each with its job's state, and (v1) the
      //   states rewritten in the compact encoding (codecs.ts);
      // - slots: before 6 they were untagged: they read at the offset the store has now
      //   (clock-frame.ts CLOCK_SLOT_BASE_KEY);
      // - version 2 (msgpack runs), 3 (runs in flight in `runs`, a state per fire), 4 (untagged
      //   states): nothing to rewrite (both encodings of a run decode; fire-layout.ts reads both
      //   layouts); the version moves on so that an older build refuses the store rather than misread it.
      const first = [...t.heads.getRange({ limit: 1 })][0]?.value;
      const v1 = version < 2;
      const whole = !v1 && entryCount(t.heads) === entryCount(t.jobs) && (first === undefined || first.schedule !== undefined);
      if (!readOnly && (version < SCHEMA_VERSION || !whole)) {
        version = await t.env.childTransaction(() => {
          // Read again inside the write lock: another process may have migrated the store meanwhile.
          const now = t.meta.get(SCHEMA_KEY) ?? 0;
          if (!whole) {
            for (const key of [...t.heads.getKeys({})]) void t.heads.remove(key);
            for (const { key, value } of t.jobs.getRange({})) void t.heads.put(key, headOf(value, t.states.get(key) ?? null));
          } else if (now < HEADS_WITH_STATE) addStatesToHeads(t);
          if (v1 && now < 2) for (const { key, value } of [...t.states.getRange({})]) void t.states.put(key, value);
          const offset = t.meta.get(CLOCK_OFFSET_KEY) ?? 0;
          if (now < SLOTS_TAGGED && offset !== 0 && t.meta.get(CLOCK_SLOT_BASE_KEY) === undefined) void t.meta.put(CLOCK_SLOT_BASE_KEY, offset);
          if (now < SCHEMA_VERSION) void t.meta.put(SCHEMA_KEY, SCHEMA_VERSION);
          return Math.max(now, SCHEMA_VERSION);
        });
        await t.env.flushed;
      }
      // Stores written before run statistics were rolled up: count the stored runs once.
      if (!readOnly && t.meta.get(ROLLUP_META_KEY) !== ROLLUP_VERSION) {
        await t.env.childTransaction(() => {
          if (t.meta.get(ROLLUP_META_KEY) === ROLLUP_VERSION) return;
          rebuildRollups(t);
          void t.meta.put(ROLLUP_META_KEY, ROLLUP_VERSION);
        });
        await t.env.flushed;
      }
      return new Store(t, readOnly, version);
    } catch (err) {
      await t.env.close().catch(() => undefined);
      if (err instanceof SchedulerError) throw err;
      throw new PersistenceError(`cannot open store at ${where}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Schema version of the store (0: empty store opened read-only). */
  get schemaVersion(): number {
    return this.#schemaVersion;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Refuses new calls, waits for writes in flight, then closes the environment. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#pending]);
    await this.#t.env.close();
  }

  /**
   * Stores a new job (with its first schedule state, in the same transaction, when given).
   * @throws ConflictError if its name (or id) is taken; ValidationError if it is malformed.
   */
  async insertJob(job: Job, state?: ScheduleState): Promise<void> {
    const j = check.job(job, 'job');
    const st = state === undefined ? undefined : check.scheduleState(state, 'state');
    if (st !== undefined && st.jobId !== j.id) throw new ValidationError(`state.jobId: expected '${j.id}' (the job's id)`, 'state.jobId');
    return await this.#write(() => {
      const owner = this.#t.jobNames.get(j.name);
      if (owner !== undefined) throw new ConflictError(`a job named '${j.name}' already exists (${owner})`);
      if (this.#t.jobs.get(j.id) !== undefined) throw new ConflictError(`a job with id ${j.id} already exists`);
      // The head carries the state written with it (a new job has no other).
      putNewJobTx(this.#t, j, st);
    });
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
    return await this.#write(() => entries.map(({ job: j, state: st }) => {
      const owner = this.#t.jobNames.get(j.name);
      if (owner !== undefined) return `a job named '${j.name}' already exists (${owner})`;
      if (this.#t.jobs.doesExist(j.id)) return `a job with id ${j.id} already exists`;
      putNewJobTx(this.#t, j, st);
      return null;
    }));
  }

  /**
   * Replaces a stored job, moving its name index entry on rename.
   * @throws NotFoundError if it does not exist; ConflictError if renamed to a taken name.
   */
  async updateJob(job: Job): Promise<void> {
    const j = check.job(job, 'job');
    return await this.#write(() => {
      const old = this.#requireJob(j.id);
      if (old.name !== j.name) {
        const owner = this.#t.jobNames.get(j.name);
        if (owner !== undefined && owner !== j.id) throw new ConflictError(`a job named '${j.name}' already exists (${owner})`);
        void this.#t.jobNames.remove(old.name);
        void this.#t.jobNames.put(j.name, j.id);
      }
      void this.#t.jobs.put(j.id, j);
      putHeadTx(this.#t, j);
    });
  }

  /** The job with this id, or null. */
  getJob(id: string): Job | null {
    return this.#read(() => this.#t.jobs.get(id) ?? null);
  }

  /** The job with this name, or null. */
  getJobByName(name: string): Job | null {
    return this.#read(() => {
      const id = this.#t.jobNames.get(name);
      return id === undefined ? null : (this.#t.jobs.get(id) ?? null);
    });
  }

  /** All jobs in creation order (`createdAt`, then id). */
  listJobs(): Job[] {
    return this.#read(() => {
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
    await deleteJobData(this.#t, (fn) => this.#write(fn), id);
  }

  /**
   * Inserts or replaces a run (by `run.id`), keeping the unfinished-runs index right.
   * @throws NotFoundError if its job does not exist; ConflictError if the id belongs to another job's run.
   */
  async putRun(run: Run): Promise<void> {
    const r = check.run(run, 'run');
    return await this.#write(() => {
      this.#requireJob(r.jobId);
      this.#putRunTx(r);
    });
  }

  /** The run with this id, or null. */
  getRun(id: string): Run | null {
    return this.#read(() => runById(this.#t, id) ?? null);
  }

  /** Runs of a job, newest first. */
  listRuns(jobId: string, limit?: number): Run[] {
    return this.#read(() => runsOf(this.#t, jobId, limit));
  }

  /** The job's newest run with a final outcome, or null (`lastRun`: fire-layout.ts `lastFinalRun`). */
  lastFinalRun(jobId: string): Run | null {
    return this.#read(() => lastFinalRun(this.#t, jobId));
  }

  /** Runs still `queued` or `running` — after a crash, the ones to mark `interrupted`. */
  listUnfinishedRuns(): Run[] {
    return this.#read(() => unfinishedRuns(this.#t));
  }

  /**
   * Records a slot's outcome (upsert by `(jobId, at)`: a slot has one outcome).
   * @throws NotFoundError if its job does not exist.
   */
  async putSlot(slot: Slot): Promise<void> {
    const s = check.slot(slot, 'slot');
    return await this.#write(() => {
      this.#requireJob(s.jobId);
      void this.#t.slots.put([s.jobId, s.at], s);
    });
  }

  /** The slot of a job at a nominal time, or null. */
  getSlot(jobId: string, at: string): Slot | null {
    return this.#read(() => this.#t.slots.get([jobId, at]) ?? null);
  }

  /** Slots of a job, newest first. */
  listSlots(jobId: string, limit?: number): Slot[] {
    return this.#read(() => [...this.#t.slots.getRange(newestFirst(jobId, limit)).map(({ value }) => value)]);
  }

  /** A job's schedule state, or null. */
  getScheduleState(jobId: string): ScheduleState | null {
    // Read in today's clock frame (clock-frame.ts), then with the watermark derived from the slots.
    return this.#read(() => {
      const s = this.#t.states.get(jobId);
      return derivedState(this.#t, s === undefined ? null : inFrame(s, this.#clockOffset()), this.#slotFrame());
    });
  }

  /**
   * Replaces a job's schedule state.
   * @throws NotFoundError if its job does not exist.
   */
  async putScheduleState(state: ScheduleState): Promise<void> {
    const st = check.scheduleState(state, 'state');
    return await this.#write(() => {
      this.#requireJob(st.jobId);
      putStateTx(this.#t, st);
    });
  }

  /** Many schedule states in ONE transaction (one flush): the scheduler arms thousands at start-up. */
  async putScheduleStates(states: ScheduleState[]): Promise<void> {
    const all = states.map((st, i) => check.scheduleState(st, `states[${i}]`));
    return await this.#write(() => {
      for (const st of all) {
        this.#requireJob(st.jobId);
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
    return await this.#write(() => applyTriggerFires(this.#t, notes));
  }

  /** A job's trigger fire records by trigger key (index or `reboot`). */
  triggerFires(jobId: string): Map<string, StoredTriggerFire> {
    return this.#read(() => readTriggerFires(this.#t, jobId));
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
    return await this.#write(() => {
      this.#requireJob(s.jobId);
      if (this.#t.slots.get([s.jobId, s.at]) !== undefined) {
        throw new ConflictError(`slot ${s.at} of job ${s.jobId} is already recorded`);
      }
      void this.#t.slots.put([s.jobId, s.at], s);
      if (r !== null) this.#putRunTx(r);
      putStateTx(this.#t, st);
    });
  }

  /**
   * Deletes history beyond the newest `keepRunsPerJob` runs and `keepSlotsPerJob` slots of each job,
   * in bounded batches. Unfinished runs are never deleted.
   */
  async prune(keepRunsPerJob: number, keepSlotsPerJob: number): Promise<PruneResult> {
    this.#assertOpen();
    return await pruneHistory(this.#t, (fn) => this.#write(fn), keepRunsPerJob, keepSlotsPerJob);
  }

  /** The whole store as one JSON document, from one read snapshot. */
  backup(createdAt: string = new Date().toISOString()): BackupDocument {
    return this.#read(() => backupModule().exportDocument(this.#t, createdAt));
  }

  /**
   * Replaces the whole store with a backup document. The WHOLE document is validated first; any bad
   * part throws a ValidationError naming its path and nothing changes. Then one transaction.
   */
  async restore(doc: unknown): Promise<{ jobs: number; runs: number }> {
    this.#assertOpen();
    const result = await backupModule().importDocument(this.#t, (fn) => this.#write(fn), doc);
    await this.#write(() => rebuildRollups(this.#t));
    return result;
  }

  /** Entry counts and schema version. */
  counts(): StoreCounts {
    return this.#read(() => ({
      jobs: entryCount(this.#t.jobs),
      runs: entryCount(this.#t.runs) + runsInFlightOnly(this.#t),
      slots: entryCount(this.#t.slots),
      schemaVersion: this.#schemaVersion,
    }));
  }

  /**
   * One page of jobs in id order after `afterId` (exclusive), as columns (see {@link StartupPage}). The
   * scheduler loads its index page by page at start-up, so a million jobs never cross the thread
   * boundary in one message.
   */
  jobPage(afterId: string | null, limit: number, now: number): StartupPage {
    return this.#read(() => {
      const ids: string[] = [];
      const names: string[] = [];
      const flags = new Uint8Array(limit);
      const jitterMs = new Float64Array(limit);
      const last = new Float64Array(limit);
      const next = new Float64Array(limit);
      const anchor = new Float64Array(limit);
      const schedule = new Int32Array(limit);
      const schedules: StartupPage['schedules'] = [];
      const scheduleIndex = new Map<string, number>();
      const after: StartupPage['after'] = [];
      const jobs: StartupPage['jobs'] = [];
      // Since schema 7 every head carries its job's state: ONE cursor over one table per job. A head
      // without it (a store of schema 6 or before opened read-only) has its state read from
      // `states` by a cursor walking beside the heads' (a merge join: no B-tree descent per job),
      // opened only if such a head comes up; a key the walk does not meet exactly falls back to a point read.
      let states: Iterator<{ key: string; value: Buffer }> | null = null;
      let st: IteratorResult<{ key: string; value: Buffer }> | null = null;
      const instants = { last, next, anchor };
      const offset = this.#clockOffset();
      const slots = this.#slotFrame();
      try {
        for (const { key, value: head } of this.#t.heads.getRange({ start: afterId ?? undefined, limit: limit + 1 })) {
          if (key === afterId) continue;
          const i = ids.length;
          if (i >= limit) break;
          let framed = false;
          let state = true;
          const carried = head.state;
          if (carried === null) {
            state = false;
            last[i] = next[i] = anchor[i] = NaN;
          } else if (carried !== undefined) {
            last[i] = carried.last;
            next[i] = carried.next;
            anchor[i] = carried.anchor;
            if (carried.offsetMs !== undefined) {
              // A state tagged with a clock offset, read in today's frame (clock-frame.ts).
              framed = true;
              const by = offset - carried.offsetMs;
              last[i]! += by;
              next[i]! += by;
              anchor[i]! += by;
            }
          } else {
            if (states === null) states = this.#t.statesRaw.getRange({ start: key })[Symbol.iterator]();
            st ??= states.next();
            while (!st.done && st.value.key < key) st = states.next();
            const bytes = !st.done && st.value.key === key ? st.value.value : this.#t.statesRaw.get(key);
            state = bytes !== undefined;
            if (bytes === undefined) last[i] = next[i] = anchor[i] = NaN;
            else {
              stateInstants(bytes, instants, i);
              const by = stateShift(bytes, offset);
              framed = by !== null;
              if (by !== null && by !== 0) {
                last[i]! += by;
                next[i]! += by;
                anchor[i]! += by;
              }
            }
          }
          // Fires write no state (fire-layout.ts): unless the stored next slot is safely ahead (no
          // fire committed ahead can have reached it), the watermark is the newest slot's.
          if (!(next[i]! > now + STATE_LOOKAHEAD_MS)) {
            // Read at today's offset too (a fired interval job's slot is tagged: clock-frame.ts).
            const newest = newestSlotAt(this.#t, key, slots, framed);
            if (newest > last[i]! || (Number.isNaN(last[i]!) && !Number.isNaN(newest))) last[i] = newest;
          }
          ids.push(key);
          names.push(head.name);
          jitterMs[i] = head.jitterMs;
          flags[i] = (head.enabled ? PAGE_ENABLED : 0) | (head.done ? PAGE_DONE : 0) | (head.events ? PAGE_EVENTS : 0) | (state ? PAGE_STATE : 0) | (framed ? PAGE_FRAMED : 0);
          if (head.after.length > 0) after.push([i, head.after]);
          if (head.schedule === undefined) schedule[i] = -1;
          else {
            const zone = head.timezone ?? null;
            const k = `${zone ?? ''}\n${head.schedule}`;
            let s = scheduleIndex.get(k);
            if (s === undefined) {
              s = schedules.push({ schedule: head.schedule, timezone: zone }) - 1;
              scheduleIndex.set(k, s);
            }
            schedule[i] = s;
          }
          // The whole spec only where start-up needs more than the head: an active job whose next
          // slot is unknown or past (recovery, catch-up), or one with watch/usage triggers.
          const known = next[i]! > now && !(last[i]! >= next[i]!);
          if (head.enabled && !head.done && (!known || head.events)) {
            const job = this.#t.jobs.get(key);
            if (job !== undefined) jobs.push([i, job]);
          }
        }
      } finally {
        states?.return?.();
      }
      const n = ids.length;
      return {
        ids, names, flags: flags.slice(0, n), jitterMs: jitterMs.slice(0, n), last: last.slice(0, n), next: next.slice(0, n),
        anchor: anchor.slice(0, n), schedule: schedule.slice(0, n), schedules, after, jobs,
      };
    });
  }

  /**
   * Run statistics rolled up as runs finished: of one job, or (no argument) of the whole store.
   * Two small reads, whatever the history (see rollup.ts for the histogram's precision).
   */
  runRollup(jobId?: string): RunRollup {
    return this.#read(() => (jobId === undefined ? this.#t.stats.get(GLOBAL_KEY) ?? emptyRollup() : rollupOfJob(this.#t, jobId)));
  }

  /**
   * Up to `limit` jobs in id order (ids sort by creation time) after `afterId` (exclusive), each with
   * its schedule state and newest final run, and whether more jobs follow. All from ONE read snapshot: a
   * page of 50 touches about 150 records, whatever the store holds.
   */
  listJobsPage(afterId: string | null, limit: number): { entries: JobListEntry[]; more: boolean } {
    return this.#read(() => {
      const entries: JobListEntry[] = [];
      const offset = this.#clockOffset();
      const slots = this.#slotFrame();
      let more = false;
      for (const { key, value: job } of this.#t.jobs.getRange({ start: afterId ?? undefined, limit: limit + 2 })) {
        if (key === afterId) continue;
        if (entries.length >= limit) {
          more = true;
          break;
        }
        const lastRun = lastFinalRun(this.#t, key);
        const state = this.#t.states.get(key);
        entries.push({ job, state: derivedState(this.#t, state === undefined ? null : inFrame(state, offset), slots), lastRun });
      }
      return { entries, more };
    });
  }

  /**
   * Up to `limit` jobs after `afterId` (exclusive) in id order, with what `list`'s table shows of
   * each (list-rows.ts: heads, the newest run's status and times, no spec decoded), and whether
   * more follow; from ONE read snapshot.
   */
  listRowsPage(afterId: string | null, limit: number): { entries: JobRowEntry[]; more: boolean } {
    return this.#read(() => listRowsTx(this.#t, { offsetMs: this.#clockOffset(), slots: this.#slotFrame() }, afterId, limit));
  }

  /** Every job's head (id order), for counts and names without reading whole specs. */
  listHeads(): JobHead[] {
    return this.#read(() => [...this.#t.heads.getRange({}).map(({ value }) => value)]);
  }

  #requireJob(id: string): Job {
    const job = this.#t.jobs.get(id);
    if (job === undefined) throw new NotFoundError(`no job with id ${id}`);
    return job;
  }

  /** Inside a transaction: upserts a run and its index entries. */
  #putRunTx(r: Run): void {
    const held = this.#t.unfinished.get(r.id);
    const owner = held === undefined ? this.#t.runJob.get(r.id) : heldJobOf(held);
    if (owner !== undefined && owner !== r.jobId) throw new ConflictError(`run ${r.id} belongs to job ${owner}, not ${r.jobId}`);
    putRunTx(this.#t, r);
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
    const result = await this.#write(() => writeBatchTx(this.#t, b));
    // The thread dies after the commit is on disk, before anyone hears of it: the retry must find
    // its own slots (same run ids) and count them as written, not deduped.
    if (fault?.mode === 'exit') process.exit(70);
    return result;
  }

  /** Runs stored `queued` or `running`, each with whether a graceful stop parked it. */
  unfinishedRuns(): UnfinishedRun[] {
    return this.#read(() => unfinishedRunsTx(this.#t));
  }

  /** Specs of these jobs in one read (missing ones are left out). */
  getJobs(ids: string[]): Job[] {
    return this.#read(() => ids.flatMap((id) => {
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

  #assertOpen(): void {
    if (this.#closed) throw new PersistenceError('the store is closed');
  }

  /** The sum of the clock steps handled (clock-frame.ts), read in the current snapshot. */
  #clockOffset(): number {
    return this.#t.meta.get(CLOCK_OFFSET_KEY) ?? 0;
  }

  /**
   * How slot times read at today's offset (clock-frame.ts `slotShift`). Untagged slots of a store
   * not yet version 6 (a read-only open) were written at its current offset, as far as it knows.
   */
  #slotFrame(): SlotFrame {
    const offsetMs = this.#clockOffset();
    const wall = (this.#t.meta.get(CLOCK_SEQ_KEY) ?? 0) === 0;
    return { offsetMs, baseMs: this.#t.meta.get(CLOCK_SLOT_BASE_KEY) ?? (this.#schemaVersion < SLOTS_TAGGED ? offsetMs : 0), wall };
  }

  /** The clock steps handled so far (clock-frame.ts): the scheduler's start-up reads it. */
  clockFrame(): ClockFrame {
    return this.#read(() => {
      const frame: ClockFrame = { seq: this.#t.meta.get(CLOCK_SEQ_KEY) ?? 0, offsetMs: this.#clockOffset() };
      const fence = this.#t.meta.get(CLOCK_FENCE_KEY);
      if (fence !== undefined) frame.fenceMs = fence;
      return frame;
    });
  }

  #read<T>(fn: () => T): T {
    this.#assertOpen();
    try {
      // lmdb-js reuses a read snapshot until the next event turn or its OWN next write; another
      // Store (another process, or another instance here) may have committed since. Renewing the
      // snapshot is cheap and makes every read see everything committed before it.
      this.#t.env.resetReadTxn();
      return fn();
    } catch (err) {
      if (err instanceof SchedulerError) throw err;
      throw new PersistenceError(`store read failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async #write<T>(fn: () => T): Promise<T> {
    this.#assertOpen();
    if (this.#readOnly) throw new PersistenceError('the store was opened read-only');
    const done = this.#commit(fn);
    this.#pending.add(done);
    try {
      return await done;
    } finally {
      this.#pending.delete(done);
    }
  }

  async #commit<T>(fn: () => T): Promise<T> {
    try {
      const result = await this.#t.env.childTransaction(fn);
      // "Acknowledged means on disk": under overlappingSync the commit above is visible but may not
      // be flushed yet (PITFALLS.md, lmdb).
      await this.#t.env.flushed;
      return result;
    } catch (err) {
      if (err instanceof SchedulerError) throw err;
      // Names a full disk as such, and handles lmdb's separate commitError promise (store-errors.ts).
      throw await writeFailure(err, (this.#t.env as unknown as { path?: string }).path ?? '.');
    }
  }
}
