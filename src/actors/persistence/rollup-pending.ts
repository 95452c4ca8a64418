/**
 * Per-job statistics as ONE record per batch, folded later (issue 7, W3 at 10,000 jobs).
 *
 * Counting a final run into its job's rollup in place costs a get and a put per job and batch: with
 * 10,000 jobs on `every 1s` that is 10,000 read-modify-writes on as many keys every second, about
 * half of what a final record costs the persistence thread. Instead, a batch appends the few fields
 * of its final runs that a rollup needs ({@link PendingFinal}) as ONE record of `statsPending`, in
 * the same transaction as the final records themselves; once enough have gathered, a batch folds
 * them all into the per-job records (a get and a put per distinct job, however many runs it had) and
 * removes them, again in that batch's transaction. So every write is atomic with the runs it
 * counts: a crash at any point leaves each finished run counted exactly once, in its job's record
 * or in a pending record — nothing to recount, no watermark.
 *
 * A job's rollup as read = its stored record + its pending tuples (`rollupOfJob`). The whole-store
 * record (`'*'`, what `stats` shows) is still updated in every batch: one get and put.
 * @internal
 */
import type { Database } from 'lmdb';
import type { Run } from '../../model/run';
import { addRun, countRun, emptyRollup, GLOBAL_KEY, isFinal, type FinalStatus, type RunRollup } from './rollup';

/** What a job's rollup needs of one final run: job id, status, duration, finishedAt. */
export type PendingFinal = [jobId: string, status: FinalStatus, durationMs: number | null, finishedAt: string | null];

/** The `statsPending` table: batch sequence number → the final runs of that batch. */
export type PendingTable = Database<PendingFinal[], number>;

/**
 * Fold once this many final runs are pending: at 10,000 jobs × 1/s, every 10 s (a job's 10 runs cost
 * one get and put instead of ten). It also bounds what a per-job read scans.
 */
export const FOLD_RUNS = 100_000;
/** …or once this many batches are pending (a store with few runs per batch folds too). */
export const FOLD_RECORDS = 2_048;
/** `meta` key: final runs in `statsPending` now. */
export const PENDING_RUNS_KEY = 'statsPendingRuns';

/** The tables the pending rollups touch. */
export interface PendingTables {
  meta: Database<number, string>;
  jobs: Database<unknown, string>;
  stats: Database<RunRollup, string>;
  /** Null in a read-only open of a store made before the table existed (nothing pending there). */
  statsPending: PendingTable | null;
}

/** The tuple of a final run. */
export function pendingOf(run: Run): PendingFinal {
  return [run.jobId, run.status as FinalStatus, run.durationMs ?? null, run.finishedAt ?? null];
}

/** Counts one tuple into a rollup in place (what countRun does with the run itself). */
function countTuple(r: RunRollup, p: PendingFinal): void {
  countRun(r, { status: p[1], durationMs: p[2], finishedAt: p[3] } as Run);
}

/**
 * Inside a write transaction: appends one batch's final runs as one record, then folds everything
 * pending if a threshold is reached. `thresholds` is for tests (default FOLD_RUNS / FOLD_RECORDS).
 */
export function appendPendingTx(t: PendingTables, finals: PendingFinal[], thresholds = { runs: FOLD_RUNS, records: FOLD_RECORDS }): void {
  if (finals.length === 0 || t.statsPending === null) return;
  const last = firstKey(t.statsPending, true);
  const key = last === undefined ? 1 : last + 1;
  void t.statsPending.put(key, finals);
  const runs = (t.meta.get(PENDING_RUNS_KEY) ?? 0) + finals.length;
  const records = key - (firstKey(t.statsPending, false) ?? key) + 1;
  if (runs >= thresholds.runs || records >= thresholds.records) foldPendingTx(t);
  else void t.meta.put(PENDING_RUNS_KEY, runs);
}

/**
 * Inside a write transaction: folds every pending record into the per-job rollups (one get and put
 * per distinct job; a job removed meanwhile has no record any more and its tuples are dropped, as
 * its record was) and removes them. Returns the runs folded.
 */
export function foldPendingTx(t: PendingTables): number {
  if (t.statsPending === null) return 0;
  const perJob = new Map<string, RunRollup>();
  const keys: number[] = [];
  let n = 0;
  for (const { key, value } of t.statsPending.getRange({})) {
    keys.push(key);
    for (const p of value) {
      let r = perJob.get(p[0]);
      if (r === undefined) {
        if (!t.jobs.doesExist(p[0])) continue;
        r = t.stats.get(p[0]) ?? emptyRollup();
        perJob.set(p[0], r);
      }
      countTuple(r, p);
      n++;
    }
  }
  for (const [jobId, r] of perJob) void t.stats.put(jobId, r);
  for (const key of keys) void t.statsPending.remove(key);
  void t.meta.remove(PENDING_RUNS_KEY);
  return n;
}

/** Drops everything pending (a rebuild counts the stored runs from scratch). */
export function clearPendingTx(t: PendingTables): void {
  if (t.statsPending === null) return;
  for (const key of [...t.statsPending.getKeys({})]) void t.statsPending.remove(key);
  void t.meta.remove(PENDING_RUNS_KEY);
}

/**
 * A job's rollup: its stored record plus its pending tuples (a scan of at most FOLD_RUNS tuples;
 * only tests and diagnostics read one job's rollup, `stats` reads the whole-store record).
 */
export function rollupOfJob(t: PendingTables, jobId: string): RunRollup {
  const r = t.stats.get(jobId) ?? emptyRollup();
  // A removed job's record went with it; its tuples are dropped at the fold.
  if (t.statsPending === null || !t.jobs.doesExist(jobId)) return r;
  for (const { value } of t.statsPending.getRange({})) {
    for (const p of value) if (p[0] === jobId) countTuple(r, p);
  }
  return r;
}

function firstKey(db: PendingTable, reverse: boolean): number | undefined {
  for (const key of db.getKeys({ reverse, limit: 1 })) return key;
  return undefined;
}

/** The tables a rebuild clears and writes. */
export type RebuildTables = PendingTables & { runs: Database<Run, [string, string]> };

/** Rebuilds every rollup record from the stored runs (inside one write transaction). */
export function rebuildRollups(t: RebuildTables): void {
  for (const key of [...t.stats.getKeys({})]) void t.stats.remove(key);
  clearPendingTx(t);
  const perJob = new Map<string, RunRollup>();
  let global = emptyRollup();
  for (const { value: run } of t.runs.getRange({})) {
    if (!isFinal(run)) continue;
    perJob.set(run.jobId, addRun(perJob.get(run.jobId) ?? emptyRollup(), run));
    global = addRun(global, run);
  }
  for (const [jobId, r] of perJob) void t.stats.put(jobId, r);
  void t.stats.put(GLOBAL_KEY, global);
}
