/**
 * Per-job statistics as ONE record per batch, folded later (issue 7, W3 at 10,000 jobs).
 *
 * Counting a final run into its job's rollup in place costs a get and a put per job and batch: with
 * 10,000 jobs on `every 1s` that is 10,000 read-modify-writes on as many keys every second, about
 * half of what a final record costs the persistence thread. Instead, a batch appends the few fields
 * of its final runs that a rollup needs ({@link PendingFinal}) as ONE record of `statsPending`, in
 * the same transaction as the final records themselves (one record per shard of jobs it touches);
 * once enough of a shard have gathered, a batch folds them into that shard's per-job records (a get
 * and a put per distinct job, however many runs it had) and removes them, again in that batch's
 * transaction. So every write is atomic with the runs it
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

/** The `statsPending` table: `[shard, batch sequence]` → the batch's final runs of that shard's jobs. */
export type PendingTable = Database<PendingFinal[], [number, number]>;

/**
 * Jobs are spread over this many shards (by a hash of the id), folded one shard at a time: a fold
 * is a get and a put per job of ONE shard (10,000 jobs: ~600), so no batch carries the whole
 * table's read-modify-write (a stall of the persistence thread that would delay fires behind it).
 */
export const SHARDS = 16;
/**
 * Fold a shard once this many of its final runs are pending: with 10,000 jobs × 1/s, a shard every
 * ~0.6 s and each job's ~16 runs for one get and put. It also bounds what a per-job read scans.
 */
export const FOLD_RUNS = 10_000;
let foldRuns = FOLD_RUNS;

/**
 * Sets this thread's fold threshold and returns the previous one: tests fold after a few hundred
 * runs instead of writing tens of thousands. @internal for tests
 */
export function setFoldRuns(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`fold threshold must be an integer >= 0, got ${String(n)}`);
  const previous = foldRuns;
  foldRuns = n;
  return previous;
}
/** `meta` keys: the batch sequence of pending records, and each shard's pending runs (`…Runs:<shard>`). */
export const PENDING_SEQ_KEY = 'statsPendingSeq';
export const PENDING_RUNS_KEY = 'statsPendingRuns';
const runsKey = (shard: number): string => `${PENDING_RUNS_KEY}:${shard}`;

/** The tables the pending rollups touch. */
export interface PendingTables {
  meta: Database<number, string>;
  jobs: Database<unknown, string>;
  stats: Database<RunRollup, string>;
  /** Null in a read-only open of a store made before the table existed (nothing pending there). */
  statsPending: PendingTable | null;
}

/** The shard of a job (FNV-1a of its id). */
export function shardOf(jobId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < jobId.length; i++) h = Math.imul(h ^ jobId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % SHARDS;
}

/** The tuple of a final run. */
export function pendingOf(run: Run): PendingFinal {
  return [run.jobId, run.status as FinalStatus, run.durationMs ?? null, run.finishedAt ?? null];
}

/** Counts one tuple into a rollup in place (what countRun does with the run itself). */
function countTuple(r: RunRollup, p: PendingFinal): void {
  countRun(r, { status: p[1], durationMs: p[2], finishedAt: p[3] } as Run);
}

/** Range options of one shard's records, oldest first. */
const shardRange = (shard: number) => ({ start: [shard] as unknown as [number, number], end: [shard + 1] as unknown as [number, number] });

/**
 * Inside a write transaction: appends one batch's final runs as one record per shard they fall in,
 * then folds the fullest shard if it reached `threshold` ({@link FOLD_RUNS}). One shard at
 * most per batch: shards fill at about the same pace, and folding them all at once would be the
 * whole table's read-modify-write in one transaction again.
 */
export function appendPendingTx(t: PendingTables, finals: PendingFinal[], threshold = foldRuns): void {
  if (finals.length === 0 || t.statsPending === null) return;
  const seq = (t.meta.get(PENDING_SEQ_KEY) ?? 0) + 1;
  void t.meta.put(PENDING_SEQ_KEY, seq);
  const byShard = new Map<number, PendingFinal[]>();
  for (const p of finals) {
    const s = shardOf(p[0]);
    const list = byShard.get(s);
    if (list === undefined) byShard.set(s, [p]);
    else list.push(p);
  }
  let fullest = -1;
  let most = 0;
  for (const [s, list] of byShard) {
    void t.statsPending.put([s, seq], list);
    const runs = (t.meta.get(runsKey(s)) ?? 0) + list.length;
    void t.meta.put(runsKey(s), runs);
    if (runs >= threshold && runs > most) {
      fullest = s;
      most = runs;
    }
  }
  if (fullest >= 0) foldShardTx(t, fullest);
}

/**
 * Inside a write transaction: folds one shard's pending records into its jobs' rollups (one get
 * and put per distinct job; a job removed meanwhile has no record any more and its tuples are
 * dropped, as its record was) and removes them. Returns the runs folded.
 */
export function foldShardTx(t: PendingTables, shard: number): number {
  if (t.statsPending === null) return 0;
  const perJob = new Map<string, RunRollup>();
  const keys: Array<[number, number]> = [];
  let n = 0;
  for (const { key, value } of t.statsPending.getRange(shardRange(shard))) {
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
  void t.meta.remove(runsKey(shard));
  return n;
}

/** Inside a write transaction: folds every shard (tests, diagnostics). Returns the runs folded. */
export function foldPendingTx(t: PendingTables): number {
  let n = 0;
  for (let s = 0; s < SHARDS; s++) n += foldShardTx(t, s);
  return n;
}

/** Drops everything pending (a rebuild counts the stored runs from scratch). */
export function clearPendingTx(t: PendingTables): void {
  if (t.statsPending === null) return;
  for (const key of [...t.statsPending.getKeys({})]) void t.statsPending.remove(key);
  for (let s = 0; s < SHARDS; s++) void t.meta.remove(runsKey(s));
}

/**
 * A job's rollup: its stored record plus its pending tuples (a scan of its shard: about FOLD_RUNS
 * tuples at most; only tests and diagnostics read one job's rollup, `stats` reads the whole-store
 * record).
 */
export function rollupOfJob(t: PendingTables, jobId: string): RunRollup {
  const r = t.stats.get(jobId) ?? emptyRollup();
  // A removed job's record went with it; its tuples are dropped at the fold.
  if (t.statsPending === null || !t.jobs.doesExist(jobId)) return r;
  for (const { value } of t.statsPending.getRange(shardRange(shardOf(jobId)))) {
    for (const p of value) if (p[0] === jobId) countTuple(r, p);
  }
  return r;
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
