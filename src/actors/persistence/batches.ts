/**
 * The LMDB side of the port's batch operations (src/actors/persistence/port.ts): one batch of
 * fires, runs and schedule states in ONE transaction. Records come from the scheduler, built from
 * validated specs, so they are not re-parsed with zod here (that cost was paid per write before);
 * only what the transaction itself needs is checked.
 * @internal
 */
import { ValidationError } from '../../errors';
import type { Run } from '../../model/run';
import type { Batch, BatchResult, UnfinishedRun } from './port';
import type { Tables } from './tables';
import { rollUpFinal } from './rollup';

const UNFINISHED: ReadonlySet<Run['status']> = new Set(['queued', 'running']);

/** Inside a transaction: upserts a run and its index entries. Returns false if its job is gone. */
export function putRunTx(t: Tables, r: Run): boolean {
  if (t.jobs.get(r.jobId) === undefined) return false;
  const owner = t.runJob.get(r.id);
  if (owner !== undefined && owner !== r.jobId) {
    throw new ValidationError(`run ${r.id} belongs to job ${owner}, not ${r.jobId}`, 'run.jobId');
  }
  const prev = t.runs.get([r.jobId, r.id]);
  void t.runs.put([r.jobId, r.id], r);
  void t.runJob.put(r.id, r.jobId);
  // A run's final record: its statistics roll up in the same transaction (rollup.ts).
  rollUpFinal(t, r, prev);
  if (UNFINISHED.has(r.status)) void t.unfinished.put(r.id, r.jobId);
  else {
    void t.unfinished.remove(r.id);
    void t.parked.remove(r.id);
  }
  return true;
}

/** Checks a batch's shape once at the thread boundary (cheap: no per-field schema). */
export function checkBatch(b: unknown): Batch {
  const batch = b as Batch;
  if (batch === null || typeof batch !== 'object' || !Array.isArray(batch.fires) || !Array.isArray(batch.runs) ||
    !Array.isArray(batch.states)) {
    throw new ValidationError('batch: expected { fires: [], runs: [], states: [] }', 'batch');
  }
  for (const [i, f] of batch.fires.entries()) {
    if (typeof f?.slot?.jobId !== 'string' || typeof f.slot.at !== 'string') {
      throw new ValidationError(`batch.fires[${i}].slot: expected a slot with jobId and at`, `batch.fires[${i}].slot`);
    }
    if (f.run !== null && f.run?.jobId !== f.slot.jobId) {
      throw new ValidationError(`batch.fires[${i}].run.jobId: the run is for another job than its slot`, `batch.fires[${i}].run.jobId`);
    }
  }
  for (const [i, r] of batch.runs.entries()) {
    if (typeof r?.id !== 'string' || typeof r.jobId !== 'string') {
      throw new ValidationError(`batch.runs[${i}]: expected a run with id and jobId`, `batch.runs[${i}]`);
    }
  }
  return batch;
}

/** Inside ONE transaction: writes the batch (port rules: dedupe by slot, drop removed jobs). */
export function writeBatchTx(t: Tables, batch: Batch): BatchResult {
  const deduped: BatchResult['deduped'] = [];
  const dropped = new Set<string>();
  for (const { slot, run } of batch.fires) {
    if (t.jobs.get(slot.jobId) === undefined) {
      dropped.add(slot.jobId);
      continue;
    }
    const held = t.slots.get([slot.jobId, slot.at]);
    if (held !== undefined) {
      // The same run id: this batch's own earlier commit, whose reply was lost. Anything else: taken.
      if (run === null || held.runId !== run.id) deduped.push({ jobId: slot.jobId, at: slot.at });
      continue;
    }
    void t.slots.put([slot.jobId, slot.at], slot);
    if (run !== null) putRunTx(t, run);
  }
  const finals: Run[] = [];
  for (const run of batch.runs) {
    if (UNFINISHED.has(run.status)) {
      if (!putRunTx(t, run)) dropped.add(run.jobId);
    } else {
      finals.push(run);
    }
  }
  for (const jobId of commitFinishesTx(t, finals)) dropped.add(jobId);
  for (const st of batch.states) {
    if (t.jobs.get(st.jobId) === undefined) dropped.add(st.jobId);
    else void t.states.put(st.jobId, st);
  }
  for (const id of batch.parked ?? []) {
    const jobId = t.unfinished.get(id);
    if (jobId !== undefined) void t.parked.put(id, jobId);
  }
  return { deduped, dropped: [...dropped] };
}

/**
 * Inside the batch's transaction: the final records of finished runs (all finishes of a turn).
 * The one place a run's end is written — per-job statistics rolled up as runs finish belong here.
 * Returns the ids of jobs that are gone (their records dropped).
 */
export function commitFinishesTx(t: Tables, finals: Run[]): string[] {
  const gone: string[] = [];
  for (const run of finals) if (!putRunTx(t, run)) gone.push(run.jobId);
  return gone;
}

/** Unfinished runs, each with whether a graceful stop parked it unstarted. */
export function unfinishedRunsTx(t: Tables): UnfinishedRun[] {
  const out: UnfinishedRun[] = [];
  for (const { key: runId, value: jobId } of t.unfinished.getRange({})) {
    const run = t.runs.get([jobId, runId]);
    if (run !== undefined) out.push({ run, parked: t.parked.get(runId) !== undefined });
  }
  return out;
}
