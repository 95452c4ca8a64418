/**
 * The `triggerFires` table: per job and trigger, its last fire and counts of what its fires caused
 * (`status` / `why` of a trigger job). One small record per trigger, rewritten on each of its fires
 * — on the trigger's fire path only, never per scheduled run.
 *
 * | key | value |
 * | --- | --- |
 * | `[jobId, triggerKey]` | {@link StoredTriggerFire} (`triggerKey`: the trigger's index, or `reboot`) |
 *
 * The table came after the first stores: a store opened read-only before any writer of this version
 * created it has none, and reads as "no fire recorded".
 * @internal
 */
import type { Database } from 'lmdb';
import type { TriggerFireNote } from '../../model/trigger-status';
import { oldestFirst, type Tables } from './tables';

/** Newest run ids kept per trigger. */
export const RECENT_RUNS = 5;

/** What is kept per trigger. */
export interface StoredTriggerFire {
  lastFiredAt: string;
  lastReason: string;
  lastRunId: string;
  fires: number;
  skipped: number;
  /** Newest first, at most {@link RECENT_RUNS}; runs that started (not skipped fires). */
  recentRunIds: string[];
}

/** The table, or null when a read-only open finds it not created yet. */
export type TriggerFireTable = Database<StoredTriggerFire, [string, string]> | null;

/** Folds fire notes into their records; notes of jobs no longer stored are dropped. Call inside a write. */
export function applyTriggerFires(t: Tables, notes: TriggerFireNote[]): number {
  const db = t.triggerFires;
  if (db === null) return 0;
  let written = 0;
  for (const n of notes) {
    if (t.jobs.get(n.jobId) === undefined) continue;
    const key: [string, string] = [n.jobId, n.key];
    const old = db.get(key);
    const recent = n.skipped ? (old?.recentRunIds ?? []) : [n.runId, ...(old?.recentRunIds ?? [])].slice(0, RECENT_RUNS);
    void db.put(key, {
      lastFiredAt: n.at, lastReason: n.reason, lastRunId: n.runId,
      fires: (old?.fires ?? 0) + 1, skipped: (old?.skipped ?? 0) + (n.skipped ? 1 : 0), recentRunIds: recent,
    });
    written++;
  }
  return written;
}

/** A job's records by trigger key. */
export function readTriggerFires(t: Tables, jobId: string): Map<string, StoredTriggerFire> {
  const out = new Map<string, StoredTriggerFire>();
  if (t.triggerFires === null) return out;
  for (const { key, value } of t.triggerFires.getRange(oldestFirst(jobId))) out.set(key[1], value);
  return out;
}

/** Removes a job's records (with the job). Call inside a write. */
export function removeTriggerFires(t: Tables, jobId: string): void {
  if (t.triggerFires === null) return;
  for (const key of [...t.triggerFires.getKeys(oldestFirst(jobId))]) void t.triggerFires.remove(key);
}

/** Removes every record (a restore replaces every job). Call inside a write. */
export function clearTriggerFires(t: Tables): void {
  if (t.triggerFires === null) return;
  for (const key of [...t.triggerFires.getKeys({})]) void t.triggerFires.remove(key);
}
