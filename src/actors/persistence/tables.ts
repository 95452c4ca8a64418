/**
 * The LMDB layout of the store: one environment at `<dataDir>/store` with named sub-databases.
 *
 * | db           | key                  | value        | why                                              |
 * | ------------ | -------------------- | ------------ | ------------------------------------------------ |
 * | `meta`       | `'schemaVersion'`    | number       | refuse a store written by a newer version         |
 * | `meta`       | `'clockStepSeq'`, `'clockOffsetMs'` | number | clock steps handled (clock-frame.ts)   |
 * | `meta`       | `'clockSlotBaseMs'`, `'clockFenceMs'` | number | offset untagged pre-v6 slots read at; wall time a backward step left behind (clock-frame.ts) |
 * | `meta`       | `'batchWriter'`, `'batchSeq'` | number | last durable batch of the committer's sequence (port.ts `BatchOrder`) |
 * | `jobs`       | job id               | Job          |                                                  |
 * | `jobNames`   | job name             | job id       | unique names, `getJobByName`                      |
 * | `runs`       | `[jobId, runId]`     | Run          | runs of a job newest first = one reverse range    |
 * | `runJob`     | run id               | job id       | `getRun(id)` without a scan                       |
 * | `unfinished` | run id               | Run (v4) or job id | queued/running runs, for crash recovery: since v4 the run itself (moved to `runs` by its final record); a job id (run in `runs`) from v3 and before |
 * | `slots`      | `[jobId, at]`        | Slot         | slots of a job newest first = one reverse range; since v6 an interval job's tagged with its clock offset (codecs.ts) |
 * | `states`     | job id               | ScheduleState| codecs.ts encoding; since v4 a lower bound: the watermark is max(its lastSlotAt, the job's newest slot) (derived-state.ts) |
 * | `parked`     | run id               | job id       | queued runs a graceful stop left unstarted        |
 * | `heads`      | job id               | JobHead      | compact start-up records (codecs.ts encoding); since v7 each carries its job's state instants: start-up reads only these |
 * | `stats`      | job id, or `'*'`     | RunRollup    | run counts and duration histogram, kept as runs finish (rollup.ts); a job's record lags by what `statsPending` holds |
 * | `statsPending` | batch sequence     | PendingFinal[] | the final runs of a batch not yet folded into their jobs' `stats` records (rollup-pending.ts) |
 *
 * Run ids (src/model/ids.ts) and slot times (canonical ISO UTC) sort lexically by time, and lmdb's
 * ordered-binary keys sort arrays element by element, so `[jobId, *]` ranges come out in time order.
 * @internal
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { open, type Database, type DatabaseOptions, type RootDatabase, type RootDatabaseOptions } from 'lmdb';
import type { Job } from '../../model/job';
import type { Run, Slot } from '../../model/run';
import type { ScheduleState, StateInstants } from './schema';
import type { RunRollup } from './rollup';
import type { PendingFinal, PendingTable } from './rollup-pending';
import { headEncoder, headStateOf, runEncoder, slotEncoder, stateEncoder } from './codecs';
import type { StoredTriggerFire, TriggerFireTable } from './trigger-fires';

/** Layout version written into `meta`. Bump it (and add a migration) when the layout changes. */
export const SCHEMA_VERSION = 7;
/**
 * Versions: 1 — msgpack values everywhere; 2 — `heads` and `states` in the compact encoding of
 * codecs.ts (version 1 values still decode; opening a version 1 store for writing rewrites them);
 * 3 — `runs` written in codecs.ts's compact encoding too (runs stored as msgpack still decode, so
 * opening a version 2 store for writing only records the new version: an older build then refuses
 * the store instead of failing on its first new run); 4 — a fire writes two records, its slot and
 * its run in `unfinished` (no `runs`/`runJob` entry until its final record, no schedule state: the
 * state is derived from the job's newest slot, derived-state.ts). Version 3 values still read
 * (`unfinished` holding a job id), so opening a version 3 store for writing only records 4;
 * 5 — interval states tagged with a clock offset (state layout version 2, clock-frame.ts;
 * untagged states still decode: opening a version 4 store for writing only records 5, so an older
 * build refuses it instead of misreading a tagged state);
 * 6 — interval slots tagged with a clock offset too (codecs.ts `encodeSlot`, clock-frame.ts), so a
 * step moves fired jobs without a write; untagged (msgpack) slots still decode: opening a version 5
 * store for writing records the offset untagged slots read at (`clockSlotBaseMs`);
 * 7 — every head carries its job's schedule state instants (head layout version 2, codecs.ts; a
 * tagged state's copy keeps its clock offset), written with the state in one transaction, so
 * start-up reads one record per job. Opening an older store for writing rebuilds the heads, in ONE
 * transaction with the version record (and, from version 5, `clockSlotBaseMs`); an older build must
 * refuse the store, as its state writes would not update the heads.
 */
/** The first schema version whose interval slots are tagged with their clock offset (older: `clockSlotBaseMs`). */
export const SLOTS_TAGGED = 6;
/** The first schema version whose heads carry their job's state (older stores rebuild them at open). */
export const HEADS_WITH_STATE = 7;
/** Sub-directory of the data directory holding the LMDB environment. */
export { STORE_DIR } from './store-dir';
import { STORE_DIR } from './store-dir';
/** Key of the schema version record in the `meta` db. */
export const SCHEMA_KEY = 'schemaVersion';

/** A key that sorts after every id or ISO time (both are ASCII), closing `[jobId, …]` ranges. */
const HIGH = '\uffff';

/** The open environment and its sub-databases. @internal */
export interface Tables {
  env: RootDatabase;
  meta: Database<number, string>;
  jobs: Database<Job, string>;
  jobNames: Database<string, string>;
  runs: Database<Run, [string, string]>;
  /** The same `runs` db, values as stored bytes (`list` reads only a newest run's status and times). */
  runsRaw: Database<Buffer, [string, string]>;
  runJob: Database<string, string>;
  /** Run id → the unfinished run (v4 layout) or its job id (the run is in `runs`: v3 and before). */
  unfinished: Database<Run | string, string>;
  /** The same `unfinished` db, values as stored bytes (counting runs in flight without decoding them). */
  unfinishedRaw: Database<Buffer, string>;
  slots: Database<Slot, [string, string]>;
  /** The same `slots` db, values as stored bytes (start-up reads the newest slot's clock tag only). */
  slotsRaw: Database<Buffer, [string, string]>;
  states: Database<ScheduleState, string>;
  /** The same `states` db, values as stored bytes (start-up reads the instants straight from them). */
  statesRaw: Database<Buffer, string>;
  /** Compact per-job start-up records (see {@link JobHead}), kept in step with `jobs`. */
  heads: Database<JobHead, string>;
  /** Unfinished runs a graceful stop left unstarted (queued again at the next start). */
  parked: Database<string, string>;
  /** Run statistics per job and for the whole store, updated with each run's final record. */
  stats: Database<RunRollup, string>;
  /** Final runs of recent batches not folded into their jobs' `stats` yet (rollup-pending.ts); null in a read-only open of a store made before it. */
  statsPending: PendingTable | null;
  /** Last fire and counts per job trigger (trigger-fires.ts); null in a read-only open of a store made before it. */
  triggerFires: TriggerFireTable;
}

/**
 * What start-up needs of a job whose next slot is already known: enough to index it and arm it,
 * about a fifth of a whole spec. Start-up reads these instead of every spec, so LMDB pages touched
 * (and resident) at start-up stay small. Written with the job, in the same transaction.
 */
export interface JobHead {
  id: string;
  name: string;
  enabled: boolean;
  done: boolean;
  jitterMs: number;
  /** Upstream jobs of its `--after` triggers. */
  after: string[];
  /** True when the job has watch/usage triggers (start-up then needs the whole spec). */
  events: boolean;
  /**
   * Canonical schedule text and zone: the scheduler keeps every armed job's parsed schedule (shared
   * between jobs with the same text) beside its timeline entry, so a clock jump re-arms in memory.
   * Absent in heads written before they carried it (the store rebuilds those at open).
   */
  schedule?: string;
  timezone?: string | null;
  /**
   * The job's stored schedule state, as instants (null: none stored), so start-up reads ONE record
   * per job (schema version 7): written with every state write ({@link putStateTx}) and every head
   * write, in the same transaction. Absent in heads written before they carried it (schema 6 and
   * before: the state is then read from `states`; opening such a store for writing rebuilds them).
   */
  state?: HeadState | null;
}

/** A schedule state as its job's head carries it. */
export interface HeadState extends StateInstants {
  /** The clock offset the state is tagged with (clock-frame.ts); absent: untagged. */
  offsetMs?: number;
}

/**
 * The head of a job, carrying its stored schedule state (`null`: none). Every writer passes the
 * state the job has in the same transaction, so the two never disagree.
 */
export function headOf(job: Job, state: ScheduleState | null): JobHead {
  return {
    id: job.id,
    name: job.name,
    enabled: job.enabled,
    done: job.completedAt !== null,
    jitterMs: job.jitterMs,
    after: job.triggers.flatMap((t) => (t.type === 'after' ? [t.job] : [])),
    events: job.triggers.some((t) => t.type !== 'after'),
    schedule: job.schedule,
    timezone: job.timezone,
    state: state === null ? null : headStateOf(state),
  };
}

/**
 * Inside a write transaction: stores a schedule state AND the copy its job's head carries. Every
 * state write goes through here (a head left with an older copy would arm the job from it), but a
 * new job's first state ({@link putNewJobTx}). A job without a head yet gets the state with its head.
 */
export function putStateTx(t: Tables, st: ScheduleState): void {
  void t.states.put(st.jobId, st);
  const head = t.heads.get(st.jobId);
  if (head !== undefined) void t.heads.put(st.jobId, { ...head, state: headStateOf(st) });
}

/**
 * Inside a write transaction: stores a new job (its name and id checked free by the caller), its
 * head and its first schedule state if any, the head carrying that state. The one other state write
 * besides {@link putStateTx}: a new job's head is written here anyway, no need to read it back.
 */
export function putNewJobTx(t: Tables, job: Job, st: ScheduleState | undefined): void {
  if (st !== undefined) void t.states.put(st.jobId, st);
  void t.jobs.put(job.id, job);
  void t.heads.put(job.id, headOf(job, st ?? null));
  void t.jobNames.put(job.name, job.id);
}

/** Inside a write transaction: stores the head of a job, with the state stored for it (read in the transaction). */
export function putHeadTx(t: Tables, job: Job): void {
  void t.heads.put(job.id, headOf(job, t.states.get(job.id) ?? null));
}

/** Runs a write callback in one atomic transaction and resolves once it is on disk. @internal */
export type Writer = <T>(fn: () => T) => Promise<T>;

/** Path of the LMDB environment inside a data directory. */
export function storePath(dataDir: string): string {
  return path.join(dataDir, STORE_DIR);
}

/**
 * Options every opener uses, so that a daemon and a CLI process (or two threads) agree on the
 * environment. Defaults kept on purpose: overlappingSync stays on (its `flushed` promise is what the
 * store awaits before acknowledging), no noSync / useWritemap (durability; child transactions need
 * no writemap), msgpack values without shared structures (each record decodes on its own, so several
 * processes never race on a shared structure table). Every opener must pass the same flags.
 */
export function envOptions(readOnly: boolean): RootDatabaseOptions {
  // noReadAhead (MDB_NORDAHEAD): reads are point lookups and short ranges spread over the file;
  // the kernel's read-ahead would pull (and map, counting in RSS) whole neighbourhoods of job specs
  // when start-up only needs each job's head and state.
  // (lmdb-js supports the option; its typings do not list it.)
  return { maxDbs: 16, readOnly, noReadAhead: process.platform === 'linux' } as RootDatabaseOptions;
}

/**
 * The options a sub-database is opened with: `states` and `heads` are read for every job at
 * start-up and `runs` are written twice per run, so they use a compact fixed layout instead of
 * msgpack (codecs.ts); `slots` carry a clock tag before their msgpack (codecs.ts `encodeSlot`); every other table is msgpack. Whatever reads a table (the store, `rae-sched doctor`'s full read) opens it with these.
 * (lmdb-js takes an object with encode/decode as `encoder`; its typings list only msgpack options.)
 * @internal
 */
export function dbOptionsOf(name: string): DatabaseOptions {
  // `unfinished` holds runs since v4 (and job id strings before: the run codec reads both).
  if (name === 'runs' || name === 'unfinished') return { encoder: runEncoder } as DatabaseOptions;
  if (name === 'states') return { encoder: stateEncoder } as DatabaseOptions;
  if (name === 'heads') return { encoder: headEncoder } as DatabaseOptions;
  if (name === 'slots') return { encoder: slotEncoder } as DatabaseOptions;
  return {};
}

/** Opens the environment and its sub-databases. @internal */
export function openTables(dataDir: string, readOnly: boolean): Tables {
  // The store holds commands and `--env` values: private, whoever creates it (daemon or CLI).
  if (!readOnly) fs.mkdirSync(storePath(dataDir), { recursive: true, mode: 0o700 });
  const env = open(storePath(dataDir), envOptions(readOnly));
  if (!readOnly) privateFiles(storePath(dataDir));
  // Sub-databases are created by the first writer; a read-only open finds them all.
  const db = {};
  return {
    env,
    meta: env.openDB<number, string>('meta', db),
    jobs: env.openDB<Job, string>('jobs', db),
    jobNames: env.openDB<string, string>('jobNames', db),
    runs: env.openDB<Run, [string, string]>('runs', dbOptionsOf('runs')),
    runsRaw: env.openDB<Buffer, [string, string]>('runs', { ...db, encoding: 'binary' }),
    runJob: env.openDB<string, string>('runJob', db),
    unfinished: env.openDB<Run | string, string>('unfinished', dbOptionsOf('unfinished')),
    unfinishedRaw: env.openDB<Buffer, string>('unfinished', { ...db, encoding: 'binary' }),
    slots: env.openDB<Slot, [string, string]>('slots', dbOptionsOf('slots')),
    slotsRaw: env.openDB<Buffer, [string, string]>('slots', { ...db, encoding: 'binary' }),
    states: env.openDB<ScheduleState, string>('states', dbOptionsOf('states')),
    heads: env.openDB<JobHead, string>('heads', dbOptionsOf('heads')),
    statesRaw: env.openDB<Buffer, string>('states', { ...db, encoding: 'binary' }),
    parked: env.openDB<string, string>('parked', db),
    stats: env.openDB<RunRollup, string>('stats', db),
    statsPending: openOptional(readOnly, () => env.openDB<PendingFinal[], [number, number]>('statsPending', {})),
    triggerFires: openOptional(readOnly, () => env.openDB<StoredTriggerFire, [string, string]>('triggerFires', {})),
  };
}

/** A table added after the first layouts (`triggerFires`, `statsPending`): a read-only open of a store made before it finds none. */
function openOptional<D>(readOnly: boolean, openDb: () => D): D | null {
  try {
    return openDb() ?? null;
  } catch (err) {
    if (readOnly) return null;
    throw err;
  }
}

/** LMDB creates its files 0644 (umask permitting): make them owner-only (not ours to change: left as is). */
function privateFiles(dir: string): void {
  for (const name of ['data.mdb', 'lock.mdb']) {
    try {
      const file = path.join(dir, name);
      if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
    } catch {
      // Another user's store, or no such file: nothing to tighten here.
    }
  }
}

/** Range options selecting every `[jobId, …]` key, newest (highest second part) first. */
export function newestFirst(jobId: string, limit?: number, offset?: number) {
  return { start: [jobId, HIGH] as [string, string], end: [jobId] as unknown as [string, string], reverse: true, limit, offset };
}

/** Range options selecting every `[jobId, …]` key, oldest first. */
export function oldestFirst(jobId: string, limit?: number) {
  return { start: [jobId] as unknown as [string, string], end: [jobId, HIGH] as [string, string], limit };
}

/** Number of entries in a sub-database (O(1): read from LMDB's page statistics). */
export function entryCount(db: { getStats(): object }): number {
  return (db.getStats() as { entryCount: number }).entryCount;
}
