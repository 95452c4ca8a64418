/**
 * The newest `[jobId, …]` key of each of many jobs (their newest run, their newest slot) in one
 * walk over the keys instead of one range read per job. lmdb-js builds an iterator for every range
 * read (~10 µs of CPU each, cold, on the 2-core test host: 10,000 of them were a third of an offline
 * `list`), where a step of an open cursor over keys alone costs well under 1 µs.
 * @internal
 */
import type { Database } from 'lmdb';

/** Keys of one job walked past before its newest key is read with a range of its own instead. */
const STEPS_PER_JOB = 2;
/** A key that sorts after every id or ISO time (both are ASCII), closing `[jobId, …]` ranges. */
const HIGH = '\uffff';

/**
 * For each job of `ids` (ascending, as the tables sort them) that has keys in `db`, the second
 * part of its highest key (run ids and slot times sort by time: its newest). One walk over the
 * keys, from the last job down to the first: the first key met of each job is its newest. A job
 * with more than a few keys is not walked through: the walk starts again at the next job asked
 * for, with a range whose first key is that job's newest. So the cost stays O(jobs) whatever the
 * history — at most one range read and a few steps per job, never more than a range per job as
 * reading each job's newest key on its own costs. Call inside one read snapshot.
 */
export function newestKeysOf(db: Database<unknown, [string, string]>, ids: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const first = ids[0];
  let i = ids.length - 1;
  while (first !== undefined && i >= 0) {
    let heavy: string | null = null;
    let job: string | null = null;
    let steps = 0;
    for (const key of db.getKeys({ start: [ids[i]!, HIGH], end: [first] as unknown as [string, string], reverse: true })) {
      if (key[0] !== job) {
        job = key[0];
        steps = 0;
        out.set(job, key[1]);
      }
      if (++steps > STEPS_PER_JOB) {
        heavy = job;
        break;
      }
    }
    if (heavy === null) break;
    while (i >= 0 && ids[i]! >= heavy) i--;
  }
  return out;
}
