/**
 * Whole-store export and import (`rae-sched backup` / `restore`).
 *
 * Restore checks the WHOLE document before it touches the store — shape (zod) and then references
 * (unique ids and names, runs and slots pointing at jobs in the document) — and then replaces the
 * contents in ONE transaction, so a bad file or a crash mid-restore leaves the old store as it was.
 * Schedule state is not part of the document (BackupDocument in src/api.ts): after a restore the queue
 * rebuilds it from the jobs and their newest slots, as it does for a job it has never seen.
 * @internal
 */
import { ValidationError } from '../../errors';
import type { BackupDocument } from '../../model';
import type { Run } from '../../model/run';
import { backupDocumentSchema } from './schema';
import { parseOrThrow } from '../../model/zod-error';
import { headOf, type Tables, type Writer } from './tables';
import { checkStoredJob } from '../../model/job-spec';
import { clearTriggerFires } from './trigger-fires';
import { CLOCK_OFFSET_KEY, CLOCK_SLOT_BASE_KEY } from './clock-frame';

/** Reads every job, run and slot. Call synchronously: lmdb-js keeps one read snapshot per event turn. */
export function exportDocument(t: Tables, createdAt: string): BackupDocument {
  return {
    format: 'rae-sched-backup',
    version: 1,
    createdAt,
    jobs: [...t.jobs.getRange({}).map(({ value }) => value)],
    // Runs in flight live in `unfinished` only (schema 4, fire-layout.ts).
    runs: [...t.runs.getRange({}).map(({ value }) => value), ...t.unfinished.getRange({}).flatMap(({ value }) => (typeof value === 'string' ? [] : [value]))],
    slots: [...t.slots.getRange({}).map(({ value }) => value)],
  };
}

/**
 * Validates `input` as a backup document and replaces the store's jobs, runs, slots and schedule
 * states with it.
 * @throws ValidationError naming the first bad path (`jobs[3].schedule: expected string, ...`).
 */
export async function importDocument(t: Tables, write: Writer, input: unknown): Promise<{ jobs: number; runs: number }> {
  const doc = parseOrThrow(backupDocumentSchema, input);
  checkReferences(doc);
  await write(() => {
    for (const db of [t.jobs, t.heads, t.jobNames, t.runJob, t.unfinished, t.states, t.parked] as const) {
      for (const key of [...db.getKeys({})]) void db.remove(key);
    }
    for (const key of [...t.runs.getKeys({})]) void t.runs.remove(key);
    for (const key of [...t.slots.getKeys({})]) void t.slots.remove(key);
    clearTriggerFires(t);
    for (const job of doc.jobs) {
      void t.jobs.put(job.id, job);
      // A restore brings no schedule states (each job's next slot is worked out again at start-up).
      void t.heads.put(job.id, headOf(job, null));
      void t.jobNames.put(job.name, job.id);
    }
    for (const run of doc.runs) putRun(t, run);
    for (const slot of doc.slots) void t.slots.put([slot.jobId, slot.at], slot);
    // Restored slots are untagged wall-clock times as of now: they read at today's clock offset.
    void t.meta.put(CLOCK_SLOT_BASE_KEY, t.meta.get(CLOCK_OFFSET_KEY) ?? 0);
  });
  return { jobs: doc.jobs.length, runs: doc.runs.length };
}

function putRun(t: Tables, run: Run): void {
  void t.runs.put([run.jobId, run.id], run);
  void t.runJob.put(run.id, run.jobId);
  if (run.status === 'queued' || run.status === 'running') void t.unfinished.put(run.id, run.jobId);
}

/** The document's internal consistency: what the store's indexes would otherwise silently merge. */
function checkReferences(doc: BackupDocument): void {
  const ids = new Set<string>();
  const names = new Set<string>();
  doc.jobs.forEach((job, i) => {
    // The same rules as `addJob`: a restore must not bring in a job `add` would refuse.
    checkStoredJob(job as unknown as Record<string, unknown>, `jobs[${i}]`);
    if (ids.has(job.id)) fail(`jobs[${i}].id`, `duplicate job id ${job.id}`);
    if (names.has(job.name)) fail(`jobs[${i}].name`, `duplicate job name '${job.name}'`);
    ids.add(job.id);
    names.add(job.name);
  });
  const runIds = new Set<string>();
  doc.runs.forEach((run, i) => {
    if (!ids.has(run.jobId)) fail(`runs[${i}].jobId`, `no job with id ${run.jobId} in the document`);
    if (runIds.has(run.id)) fail(`runs[${i}].id`, `duplicate run id ${run.id}`);
    runIds.add(run.id);
  });
  const slotKeys = new Set<string>();
  doc.slots.forEach((slot, i) => {
    if (!ids.has(slot.jobId)) fail(`slots[${i}].jobId`, `no job with id ${slot.jobId} in the document`);
    const key = `${slot.jobId}\n${slot.at}`;
    if (slotKeys.has(key)) fail(`slots[${i}].at`, `duplicate slot ${slot.at} of job ${slot.jobId}`);
    slotKeys.add(key);
  });
}

function fail(field: string, what: string): never {
  throw new ValidationError(`${field}: ${what}`, field);
}
