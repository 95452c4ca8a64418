/** Every persistence handler against a real LMDB store in a temp directory. */
import { createPersistenceHandlers, type PersistenceHandlers } from '../../src/actors/persistence/actor';
import { Store } from '../../src/actors/persistence/store';
import { SCHEMA_VERSION } from '../../src/actors/persistence/tables';
import { makeJob, makeRun, makeSlot, removeDir, tempDir } from './helpers/fixtures';

let dir: string;
let h: PersistenceHandlers;

beforeEach(async () => {
  dir = tempDir();
  h = await createPersistenceHandlers({ dataDir: dir });
});
afterEach(async () => {
  await h.close({});
  removeDir(dir);
});

describe('jobs', () => {
  test('insert, get by id and name, list in creation order', async () => {
    const late = makeJob(2);
    const early = makeJob(1);
    await h.insertJob({ job: late });
    await h.insertJob({ job: early });
    expect(h.getJob({ id: early.id })).toEqual(early);
    expect(h.getJobByName({ name: 'job-2' })).toEqual(late);
    expect(h.getJob({ id: 'job_missing' })).toBeNull();
    expect(h.getJobByName({ name: 'nope' })).toBeNull();
    expect(h.listJobs({}).map((j) => j.name)).toEqual(['job-1', 'job-2']);
  });

  test('a taken name is refused with CONFLICT and nothing is written', async () => {
    await h.insertJob({ job: makeJob(1, { name: 'same' }) });
    const other = makeJob(2, { name: 'same' });
    await expect(h.insertJob({ job: other })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(h.getJob({ id: other.id })).toBeNull();
    expect(h.counts({}).jobs).toBe(1);
  });

  test('concurrent inserts of one name: exactly one wins', async () => {
    const results = await Promise.allSettled([1, 2, 3, 4].map((n) => h.insertJob({ job: makeJob(n, { name: 'race' }) })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code))
      .toEqual(['CONFLICT', 'CONFLICT', 'CONFLICT']);
    expect(h.listJobs({})).toHaveLength(1);
  });

  test('update keeps the name index right on rename', async () => {
    const a = makeJob(1);
    const b = makeJob(2);
    await h.insertJob({ job: a });
    await h.insertJob({ job: b });
    await h.updateJob({ job: { ...a, name: 'renamed', priority: 5 } });
    expect(h.getJobByName({ name: 'job-1' })).toBeNull();
    expect(h.getJobByName({ name: 'renamed' })).toMatchObject({ id: a.id, priority: 5 });
    await expect(h.updateJob({ job: { ...a, name: 'job-2' } })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(h.getJobByName({ name: 'renamed' })?.id).toBe(a.id);
    // The old name is free again.
    await h.insertJob({ job: makeJob(3, { name: 'job-1' }) });
  });

  test('update of a missing job is NOT_FOUND; malformed input is VALIDATION naming the field', async () => {
    await expect(h.updateJob({ job: makeJob(1) })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const bad = { ...makeJob(1), retry: { maxRetries: -1, backoffMs: 0 } };
    await expect(h.insertJob({ job: bad })).rejects.toMatchObject({ code: 'VALIDATION', field: 'job.retry.maxRetries' });
    expect(() => h.getJob({ id: '' })).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'id' }));
  });

  test('delete removes the job, its name, runs, slots and state, in batches', async () => {
    const a = makeJob(1);
    const b = makeJob(2);
    await h.insertJob({ job: a });
    await h.insertJob({ job: b });
    // More than one batch (500) of history, so the batching loop runs several transactions.
    for (let i = 0; i < 700; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, k) => h.putRun({ run: makeRun(a.id, i + k) })));
    }
    await h.putSlot({ slot: makeSlot(a.id, 1) });
    await h.putScheduleState({ jobId: a.id, state: { jobId: a.id, lastSlotAt: null, nextRunAt: null, anchorAt: null } });
    const keep = makeRun(b.id, 1, { status: 'running', finishedAt: null });
    await h.putRun({ run: keep });
    await h.putSlot({ slot: makeSlot(b.id, 1) });

    await h.deleteJob({ id: a.id });
    expect(h.getJob({ id: a.id })).toBeNull();
    expect(h.getJobByName({ name: a.name })).toBeNull();
    expect(h.listRuns({ jobId: a.id })).toEqual([]);
    expect(h.listSlots({ jobId: a.id })).toEqual([]);
    expect(h.getScheduleState({ jobId: a.id })).toBeNull();
    expect(h.counts({})).toMatchObject({ jobs: 1, runs: 1, slots: 1 });
    expect(h.listUnfinishedRuns({})).toEqual([keep]);
    await expect(h.deleteJob({ id: a.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('runs', () => {
  test('upsert by id, get, newest first with limit, unfinished index follows status', async () => {
    const job = makeJob(1);
    await h.insertJob({ job });
    const runs = [0, 1, 2, 3].map((n) => makeRun(job.id, n, { status: 'queued', finishedAt: null }));
    for (const r of runs) await h.putRun({ run: r });
    expect(h.listRuns({ jobId: job.id }).map((r) => r.id)).toEqual(runs.map((r) => r.id).reverse());
    expect(h.listRuns({ jobId: job.id, limit: 2 }).map((r) => r.id)).toEqual([runs[3]!.id, runs[2]!.id]);
    expect(h.listUnfinishedRuns({}).map((r) => r.id).sort()).toEqual(runs.map((r) => r.id).sort());

    const done = { ...runs[1]!, status: 'failed' as const, exitCode: 2, error: 'exit 2' };
    await h.putRun({ run: done });
    expect(h.getRun({ id: done.id })).toEqual(done);
    expect(h.listUnfinishedRuns({}).map((r) => r.id)).not.toContain(done.id);
    expect(h.counts({}).runs).toBe(4);
    expect(h.getRun({ id: 'run_missing' })).toBeNull();
  });

  test('runs of one job never leak into a job whose id it prefixes', async () => {
    const a = makeJob(1, { id: 'job_a' });
    const ab = makeJob(2, { id: 'job_ab' });
    await h.insertJob({ job: a });
    await h.insertJob({ job: ab });
    await h.putRun({ run: makeRun('job_ab', 1) });
    await h.putSlot({ slot: makeSlot('job_ab', 1) });
    expect(h.listRuns({ jobId: 'job_a' })).toEqual([]);
    expect(h.listSlots({ jobId: 'job_a' })).toEqual([]);
  });

  test('a run of a missing job is NOT_FOUND; a run id reused by another job is CONFLICT', async () => {
    await expect(h.putRun({ run: makeRun('job_nope', 1) })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const a = makeJob(1);
    const b = makeJob(2);
    await h.insertJob({ job: a });
    await h.insertJob({ job: b });
    const r = makeRun(a.id, 1);
    await h.putRun({ run: r });
    await expect(h.putRun({ run: { ...r, jobId: b.id } })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(() => h.listRuns({ jobId: a.id, limit: 0 })).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
  });
});

describe('slots and schedule state', () => {
  test('slot upsert by (jobId, at), newest first; state round trip', async () => {
    const job = makeJob(1);
    await h.insertJob({ job });
    for (const n of [5, 1, 3]) await h.putSlot({ slot: makeSlot(job.id, n) });
    const s3 = makeSlot(job.id, 3, { outcome: 'skipped', reason: 'overlap' });
    await h.putSlot({ slot: s3 });
    expect(h.getSlot({ jobId: job.id, at: s3.at })).toEqual(s3);
    expect(h.listSlots({ jobId: job.id }).map((s) => s.at)).toEqual([5, 3, 1].map((n) => makeSlot(job.id, n).at));
    expect(h.listSlots({ jobId: job.id, limit: 1 })).toHaveLength(1);
    expect(h.getSlot({ jobId: job.id, at: makeSlot(job.id, 9).at })).toBeNull();
    await expect(h.putSlot({ slot: { ...s3, at: '2026-03-01 10:00' } })).rejects.toMatchObject({ code: 'VALIDATION', field: 'slot.at' });

    const state = { jobId: job.id, lastSlotAt: s3.at, nextRunAt: makeSlot(job.id, 8).at, anchorAt: job.createdAt };
    expect(h.getScheduleState({ jobId: job.id })).toBeNull();
    await h.putScheduleState({ jobId: job.id, state });
    // The stored watermark is a lower bound (schema 4: fires write no state): the newest slot (5) wins.
    expect(h.getScheduleState({ jobId: job.id })).toEqual({ ...state, lastSlotAt: makeSlot(job.id, 5).at });
    const ahead = { ...state, lastSlotAt: makeSlot(job.id, 6).at };
    await h.putScheduleState({ jobId: job.id, state: ahead });
    expect(h.getScheduleState({ jobId: job.id })).toEqual(ahead);
    await expect(h.putScheduleState({ jobId: 'other', state })).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  test('recordFire writes slot, run and state together and refuses a slot twice', async () => {
    const job = makeJob(1);
    await h.insertJob({ job });
    const slot = makeSlot(job.id, 1);
    const run = makeRun(job.id, 1, { status: 'queued', finishedAt: null });
    const state = { jobId: job.id, lastSlotAt: slot.at, nextRunAt: makeSlot(job.id, 2).at, anchorAt: null };
    await h.recordFire({ slot: { ...slot, runId: run.id }, run, state });
    expect(h.getSlot({ jobId: job.id, at: slot.at })?.runId).toBe(run.id);
    expect(h.getRun({ id: run.id })).toEqual(run);
    expect(h.getScheduleState({ jobId: job.id })).toEqual(state);
    expect(h.listUnfinishedRuns({})).toEqual([run]);

    // The same slot again (e.g. re-fired after a restart) is refused and changes nothing.
    const again = makeRun(job.id, 2);
    const later = { ...state, nextRunAt: makeSlot(job.id, 3).at };
    await expect(h.recordFire({ slot, run: again, state: later })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(h.getRun({ id: again.id })).toBeNull();
    expect(h.getScheduleState({ jobId: job.id })).toEqual(state);
    expect(h.counts({})).toMatchObject({ runs: 1, slots: 1 });
  });

  test('recordFire racing itself on one slot: exactly one run is recorded', async () => {
    const job = makeJob(1);
    await h.insertJob({ job });
    const slot = makeSlot(job.id, 1);
    const state = { jobId: job.id, lastSlotAt: slot.at, nextRunAt: null, anchorAt: null };
    const tries = [1, 2, 3].map((n) => h.recordFire({ slot, run: makeRun(job.id, n), state }));
    const results = await Promise.allSettled(tries);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(h.counts({}).runs).toBe(1);
  });

  test('recordFire with a skipped slot (no run), for a missing job, with mismatched parts', async () => {
    const job = makeJob(1);
    await h.insertJob({ job });
    const slot = makeSlot(job.id, 1, { outcome: 'skipped', reason: 'overlap' });
    const state = { jobId: job.id, lastSlotAt: slot.at, nextRunAt: null, anchorAt: null };
    await h.recordFire({ slot, run: null, state });
    expect(h.counts({})).toMatchObject({ runs: 0, slots: 1 });
    const ghost = makeSlot('job_ghost', 1);
    await expect(h.recordFire({ slot: ghost, run: null, state: { ...state, jobId: 'job_ghost' } }))
      .rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(h.recordFire({ slot: makeSlot(job.id, 2), run: null, state: { ...state, jobId: 'job_x' } }))
      .rejects.toMatchObject({ code: 'VALIDATION', field: 'state.jobId' });
  });
});

describe('durability and lifecycle', () => {
  test('data survives close and reopen; the closed store refuses calls', async () => {
    const job = makeJob(1);
    await h.insertJob({ job });
    await h.putRun({ run: makeRun(job.id, 1) });
    await h.close({});
    await expect(h.insertJob({ job: makeJob(2) })).rejects.toMatchObject({ code: 'PERSISTENCE' });
    h = await createPersistenceHandlers({ dataDir: dir });
    expect(h.getJobByName({ name: 'job-1' })).toEqual(job);
    expect(h.counts({})).toEqual({ jobs: 1, runs: 1, slots: 0, schemaVersion: SCHEMA_VERSION });
  });

  test('a second Store on the same directory sees committed writes, both ways', async () => {
    const other = await Store.open({ dataDir: dir });
    try {
      await h.insertJob({ job: makeJob(1) });
      expect(other.getJobByName('job-1')).not.toBeNull();
      await other.insertJob(makeJob(2));
      expect(h.getJobByName({ name: 'job-2' })).not.toBeNull();
      await expect(other.insertJob(makeJob(3, { name: 'job-1' }))).rejects.toMatchObject({ code: 'CONFLICT' });
    } finally {
      await other.close();
    }
    // Closing one opener leaves the other working (threads in one process share one native env).
    await h.insertJob({ job: makeJob(4) });
    expect(h.counts({}).jobs).toBe(3);
  });

  test('read-only open reads and refuses writes; a missing store is PERSISTENCE', async () => {
    await h.insertJob({ job: makeJob(1) });
    const ro = await Store.open({ dataDir: dir, readOnly: true });
    try {
      expect(ro.listJobs()).toHaveLength(1);
      await expect(ro.insertJob(makeJob(2))).rejects.toMatchObject({ code: 'PERSISTENCE' });
    } finally {
      await ro.close();
    }
    const empty = tempDir();
    try {
      await expect(Store.open({ dataDir: empty, readOnly: true })).rejects.toMatchObject({ code: 'PERSISTENCE' });
    } finally {
      removeDir(empty);
    }
  });
});
