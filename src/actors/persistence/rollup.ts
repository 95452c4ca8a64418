/**
 * Run statistics kept incrementally in the store: one record per job and one for the whole store
 * (`GLOBAL_KEY`), updated in the SAME transaction that writes a run's final record. `stats` then
 * reads two small records instead of scanning every stored run (which start-up used to do).
 *
 * Durations go into a bounded log-scale histogram: bucket `b >= 1` holds [2^((b-1)/8), 2^(b/8)) ms,
 * bucket 0 holds [0, 1) ms. A percentile is reported as the geometric middle of its bucket, so it is
 * within ±4.4% (half a bucket, 2^(1/16)) of the exact nearest-rank value; `max` is exact. At most
 * ~290 buckets cover up to a year, so a record stays small whatever the history.
 * @internal
 */
import type { DurationPercentiles, Stats } from '../../model';
import type { Run, RunStatus } from '../../model/run';
import { FINAL_RUN_STATUSES } from '../../model/run';
import type { Database } from 'lmdb';

/** Key of the whole-store record in the `stats` table (job ids never take this form). */
export const GLOBAL_KEY = '*';
/** Version of the rollup layout; the store rebuilds the table once when it finds another. */
export const ROLLUP_VERSION = 1;
/** Key in `meta` holding {@link ROLLUP_VERSION} once the table is complete. */
export const ROLLUP_META_KEY = 'rollupVersion';
/** Buckets per doubling of the duration. */
const PER_OCTAVE = 8;

/** A final run status. */
export type FinalStatus = Exclude<RunStatus, 'queued' | 'running'>;

/** Counts and durations of finished runs (of one job, or of the whole store). */
export interface RunRollup {
  counts: Record<FinalStatus, number>;
  /** Durations of runs that executed (`skipped` runs and runs without a duration are not in it). */
  durations: { n: number; sumMs: number; maxMs: number | null; buckets: Record<string, number> };
  /** `finishedAt` of the newest finished run counted. */
  lastFinishedAt: string | null;
}


/** An empty rollup. */
export function emptyRollup(): RunRollup {
  return {
    counts: Object.fromEntries(FINAL_RUN_STATUSES.map((s) => [s, 0])) as Record<FinalStatus, number>,
    durations: { n: 0, sumMs: 0, maxMs: null, buckets: {} },
    lastFinishedAt: null,
  };
}

/** Whether a run has reached a final status. */
export function isFinal(run: Pick<Run, 'status'>): boolean {
  return run.status !== 'queued' && run.status !== 'running';
}

/** Histogram bucket of a duration. */
export function bucketOf(ms: number): number {
  return ms < 1 ? 0 : 1 + Math.floor(Math.log2(ms) * PER_OCTAVE);
}

/** Geometric middle of a bucket (what a percentile in it is reported as). */
function middleOf(bucket: number): number {
  if (bucket === 0) return 0.5;
  return 2 ** ((bucket - 0.5) / PER_OCTAVE);
}

/** Adds one finished run to a rollup (a new object; the input is not changed). */
export function addRun(r: RunRollup, run: Run): RunRollup {
  const copy: RunRollup = {
    counts: { ...r.counts },
    durations: { ...r.durations, buckets: { ...r.durations.buckets } },
    lastFinishedAt: r.lastFinishedAt,
  };
  countRun(copy, run);
  return copy;
}

/**
 * Adds one finished run to a rollup IN PLACE: a batch counts hundreds of runs into the same
 * record, which it owns (decoded from the store or new), so copying it per run is wasted work.
 */
export function countRun(r: RunRollup, run: Run): void {
  const status = run.status as FinalStatus;
  r.counts[status] = (r.counts[status] ?? 0) + 1;
  const ms = run.durationMs;
  if (status !== 'skipped' && typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) {
    const b = String(bucketOf(ms));
    const d = r.durations;
    d.n += 1;
    d.sumMs += ms;
    d.maxMs = d.maxMs === null ? ms : Math.max(d.maxMs, ms);
    d.buckets[b] = (d.buckets[b] ?? 0) + 1;
  }
  const at = run.finishedAt;
  if (at !== null && (r.lastFinishedAt === null || at > r.lastFinishedAt)) r.lastFinishedAt = at;
}

/**
 * Nearest-rank p50/p90/p99 from the histogram (each the middle of its bucket, never above the exact
 * max) and the exact max.
 */
export function percentilesOf(r: RunRollup): DurationPercentiles {
  const { n, maxMs, buckets } = r.durations;
  if (n === 0) return { p50: null, p90: null, p99: null, max: null };
  const sorted = Object.entries(buckets).map(([b, c]) => [Number(b), c] as const).sort((a, b) => a[0] - b[0]);
  const pick = (p: number): number => {
    const rank = Math.max(1, Math.ceil((p / 100) * n));
    let seen = 0;
    for (const [b, c] of sorted) {
      seen += c;
      if (seen >= rank) return Math.min(round(middleOf(b)), maxMs ?? Infinity);
    }
    return maxMs ?? 0;
  };
  return { p50: pick(50), p90: pick(90), p99: pick(99), max: maxMs };
}

/** The `runs` part of `stats()` from a rollup. Skipped runs never executed: not in the success rate. */
export function runsOf(c: Record<FinalStatus, number>): Stats['runs'] {
  const total = FINAL_RUN_STATUSES.reduce((n, s) => n + (c[s as FinalStatus] ?? 0), 0);
  const executed = total - c.skipped;
  return {
    total, succeeded: c.succeeded, failed: c.failed, timeout: c.timeout, killed: c.killed,
    interrupted: c.interrupted, skipped: c.skipped, successRate: executed === 0 ? null : c.succeeded / executed,
  };
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/** The tables the rollup lives in. */
export interface RollupTables {
  stats: Database<RunRollup, string>;
}

/**
 * Inside a write transaction: counts `run` (just written final) into its job's and the global
 * record. Call it ONCE per run, when its final record is written (`prev` is what was stored before:
 * a run already final is not counted again).
 */
export function rollUpFinal(t: RollupTables, run: Run, prev: Run | undefined): void {
  if (!isFinal(run) || (prev !== undefined && isFinal(prev))) return;
  void t.stats.put(run.jobId, addRun(t.stats.get(run.jobId) ?? emptyRollup(), run));
  void t.stats.put(GLOBAL_KEY, addRun(t.stats.get(GLOBAL_KEY) ?? emptyRollup(), run));
}
