/**
 * The newest `[jobId, …]` key of each of many jobs (their newest run, their newest slot) in one
 * walk over the keys instead of one range read per job. lmdb-js builds an iterator for every range
 * read (~10 µs of CPU each, cold, on the 2-core test host: 10,000 of them were a third of an offline
 * `list`), where a step of an open cursor over keys alone costs well under 1 µs.
 * @internal
 */
import type { Database } from 'lmdb';
import { newestFirst } from './tables';

/** Keys of one job walked past before its newest key is read with a range of its own instead. */
const STEPS_PER_JOB = 8;
/** A key that sorts after every id or ISO time (both are ASCII), closing `[jobId, …]` ranges. */
const HIGH = '\uffff';

/**
 * For each job of `ids` (ascending, as the tables sort them) that has keys in `db`, the second
 * part of its highest key (run ids and slot times sort by time: its newest). One forward walk over
 * the keys from the first job to the last; a job with more than a few keys is not walked through
 * (its newest key is read by a reverse range, and the walk starts again at the next job), so the
 * cost stays O(jobs) whatever the history: at most two range reads per job, and never more steps
 * than a few per job. Call inside one read snapshot.
 */
export function newestKeysOf(db: Database<unknown, [string, string]>, ids: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const last = ids[ids.length - 1];
  let i = 0;
  while (last !== undefined && i < ids.length) {
    let heavy: string | null = null;
    let job: string | null = null;
    let steps = 0;
    for (const key of db.getKeys({ start: [ids[i]!] as unknown as [string, string], end: [last, HIGH] })) {
      if (key[0] !== job) {
        job = key[0];
        steps = 0;
      }
      if (++steps > STEPS_PER_JOB) {
        heavy = job;
        break;
      }
      out.set(job, key[1]);
    }
    if (heavy === null) break;
    for (const key of db.getKeys(newestFirst(heavy, 1))) out.set(heavy, key[1]);
    while (i < ids.length && ids[i]! <= heavy) i++;
  }
  return out;
}
