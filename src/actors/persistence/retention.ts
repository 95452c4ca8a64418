/**
 * Deleting history in bounded batches. LMDB reuses freed pages poorly while long transactions are
 * open (PITFALLS.md, lmdb), and one huge delete would hold the write lock against the daemon and
 * every CLI process: each batch here is its own short transaction.
 * @internal
 */
import { ValidationError } from '../../errors';
import { newestFirst, oldestFirst, type Tables, type Writer } from './tables';
import { removeTriggerFires } from './trigger-fires';
import { unfinishedOnlyOf } from './fire-layout';

/** Entries removed per transaction. */
export const BATCH = 500;

/** What `prune` deleted. */
export interface PruneResult {
  runs: number;
  slots: number;
}

/**
 * Removes a job's runs and slots batch by batch; the batch that finds nothing left also removes the
 * job, its name and its schedule state, so the job disappears atomically with the last of its data.
 */
export async function deleteJobData(t: Tables, write: Writer, jobId: string): Promise<void> {
  for (;;) {
    const done = await write(() => {
      const runKeys = [...t.runs.getKeys(oldestFirst(jobId, BATCH))];
      for (const key of runKeys) {
        void t.runs.remove(key);
        void t.runJob.remove(key[1]);
        void t.unfinished.remove(key[1]);
      }
      const room = BATCH - runKeys.length;
      const slotKeys = room > 0 ? [...t.slots.getKeys(oldestFirst(jobId, room))] : [];
      for (const key of slotKeys) void t.slots.remove(key);
      const more = hasAny(t.runs.getKeys(oldestFirst(jobId, 1))) || hasAny(t.slots.getKeys(oldestFirst(jobId, 1)));
      if (more) return false;
      // Its runs in flight (schema 4: in `unfinished` only, fire-layout.ts).
      for (const run of unfinishedOnlyOf(t, jobId)) void t.unfinished.remove(run.id);
      const job = t.jobs.get(jobId);
      if (job !== undefined && t.jobNames.get(job.name) === jobId) void t.jobNames.remove(job.name);
      void t.jobs.remove(jobId);
      void t.heads.remove(jobId);
      void t.states.remove(jobId);
      // The whole-store record keeps counting the job's runs: totals never go down.
      void t.stats.remove(jobId);
      removeTriggerFires(t, jobId);
      return true;
    });
    if (done) return;
  }
}

/**
 * Keeps the newest `keepRuns` runs and `keepSlots` slots of every job. Runs still queued or running
 * are never deleted (they do not count against the limit either: they are skipped and kept).
 * @throws ValidationError if a limit is not a non-negative integer.
 */
export async function pruneHistory(t: Tables, write: Writer, keepRuns: number, keepSlots: number): Promise<PruneResult> {
  checkKeep(keepRuns, 'keepRunsPerJob');
  checkKeep(keepSlots, 'keepSlotsPerJob');
  const jobIds = [...t.jobs.getKeys({})];
  const result: PruneResult = { runs: 0, slots: 0 };
  for (const jobId of jobIds) {
    result.runs += await pruneRuns(t, write, jobId, keepRuns);
    result.slots += await pruneSlots(t, write, jobId, keepSlots);
  }
  return result;
}

async function pruneRuns(t: Tables, write: Writer, jobId: string, keep: number): Promise<number> {
  let deleted = 0;
  // Unfinished runs past the limit stay; skipping them moves the window of the next batch.
  let kept = 0;
  for (;;) {
    const seen = await write(() => {
      const batch = [...t.runs.getRange(newestFirst(jobId, BATCH, keep + kept))];
      for (const { key, value } of batch) {
        if (value.status === 'queued' || value.status === 'running') {
          kept++;
          continue;
        }
        void t.runs.remove(key);
        void t.runJob.remove(key[1]);
        deleted++;
      }
      return batch.length;
    });
    if (seen < BATCH) return deleted;
  }
}

async function pruneSlots(t: Tables, write: Writer, jobId: string, keep: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const seen = await write(() => {
      const keys = [...t.slots.getKeys(newestFirst(jobId, BATCH, keep))];
      for (const key of keys) void t.slots.remove(key);
      deleted += keys.length;
      return keys.length;
    });
    if (seen < BATCH) return deleted;
  }
}

function hasAny(it: Iterable<unknown>): boolean {
  for (const _ of it) return true;
  return false;
}

function checkKeep(n: number, field: string): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new ValidationError(`${field}: expected a non-negative integer, got ${String(n)}`, field);
  }
}
