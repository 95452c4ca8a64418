/**
 * The transaction bodies of the Store's direct writes (jobs, runs, fires), each run inside ONE
 * child transaction by store.ts `#write` (a body that throws rolls back what it wrote). The
 * scheduler's batched writes live in batches.ts; these are the CLI's, the API's and tests'. Kept
 * out of store.ts so that the Store class holds the lifecycle (open, read, write, close) and the
 * conflict rules read together here.
 * @internal
 */
import { ConflictError, NotFoundError } from '../../errors';
import type { Job } from '../../model/job';
import type { Run, Slot } from '../../model/run';
import type { ScheduleState } from './schema';
import { putHeadTx, putNewJobTx, putStateTx, type Tables } from './tables';
import { putRunTx } from './batches';
import { heldJobOf } from './fire-layout';

/**
 * The stored job with this id.
 * @throws NotFoundError if it does not exist.
 */
export function requireJobTx(t: Tables, id: string): Job {
  const job = t.jobs.get(id);
  if (job === undefined) throw new NotFoundError(`no job with id ${id}`);
  return job;
}

/**
 * Inside a transaction: upserts a run and its index entries.
 * @throws ConflictError if the id belongs to another job's run.
 */
export function putOwnRunTx(t: Tables, r: Run): void {
  const held = t.unfinished.get(r.id);
  const owner = held === undefined ? t.runJob.get(r.id) : heldJobOf(held);
  if (owner !== undefined && owner !== r.jobId) throw new ConflictError(`run ${r.id} belongs to job ${owner}, not ${r.jobId}`);
  putRunTx(t, r);
}

/**
 * Inside a transaction: stores a new job (with its first schedule state, when given).
 * @throws ConflictError if its name (or id) is taken.
 */
export function insertJobTx(t: Tables, j: Job, st: ScheduleState | undefined): void {
  const owner = t.jobNames.get(j.name);
  if (owner !== undefined) throw new ConflictError(`a job named '${j.name}' already exists (${owner})`);
  if (t.jobs.get(j.id) !== undefined) throw new ConflictError(`a job with id ${j.id} already exists`);
  // The head carries the state written with it (a new job has no other).
  putNewJobTx(t, j, st);
}

/**
 * Inside a transaction: stores many new jobs; a job whose name or id is taken is refused alone (its
 * message in the answer, in order), the others are written.
 */
export function insertJobsTx(t: Tables, entries: Array<{ job: Job; state?: ScheduleState }>): Array<string | null> {
  return entries.map(({ job: j, state: st }) => {
    const owner = t.jobNames.get(j.name);
    if (owner !== undefined) return `a job named '${j.name}' already exists (${owner})`;
    if (t.jobs.doesExist(j.id)) return `a job with id ${j.id} already exists`;
    putNewJobTx(t, j, st);
    return null;
  });
}

/**
 * Inside a transaction: replaces a stored job, moving its name index entry on rename.
 * @throws NotFoundError if it does not exist; ConflictError if renamed to a taken name.
 */
export function updateJobTx(t: Tables, j: Job): void {
  const old = requireJobTx(t, j.id);
  if (old.name !== j.name) {
    const owner = t.jobNames.get(j.name);
    if (owner !== undefined && owner !== j.id) throw new ConflictError(`a job named '${j.name}' already exists (${owner})`);
    void t.jobNames.remove(old.name);
    void t.jobNames.put(j.name, j.id);
  }
  void t.jobs.put(j.id, j);
  putHeadTx(t, j);
}

/**
 * Inside a transaction: records a fire — the slot, its run (if any) and the job's new schedule
 * state — together (parts already checked to agree).
 * @throws ConflictError if the slot is already recorded; NotFoundError if the job does not exist.
 */
export function recordFireTx(t: Tables, s: Slot, r: Run | null, st: ScheduleState): void {
  requireJobTx(t, s.jobId);
  if (t.slots.get([s.jobId, s.at]) !== undefined) {
    throw new ConflictError(`slot ${s.at} of job ${s.jobId} is already recorded`);
  }
  void t.slots.put([s.jobId, s.at], s);
  if (r !== null) putOwnRunTx(t, r);
  putStateTx(t, st);
}
