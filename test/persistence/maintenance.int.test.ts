/** Backup/restore, retention and the schema version record, on a real LMDB store. */
import { open } from 'lmdb';
import { createPersistenceHandlers, type PersistenceHandlers } from '../../src/actors/persistence/actor';
import { Store } from '../../src/actors/persistence/store';
import { SCHEMA_KEY, SCHEMA_VERSION, envOptions, storePath } from '../../src/actors/persistence/tables';
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

// A parsed JSON backup, spoiled on purpose: loose by design.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

async function seed(): Promise<void> {
  const a = makeJob(1);
  const b = makeJob(2, { command: { argv: ['ls', '-l'] }, triggers: [{ type: 'watch', paths: ['/tmp'] }] });
  await h.insertJob({ job: a });
  await h.insertJob({ job: b });
  for (let n = 0; n < 5; n++) await h.putRun({ run: makeRun(a.id, n) });
  await h.putRun({ run: makeRun(b.id, 1, { status: 'running', finishedAt: null }) });
  for (let n = 0; n < 3; n++) await h.putSlot({ slot: makeSlot(a.id, n) });
}

test('backup → restore into an empty store round-trips every record and index', async () => {
  await seed();
  const doc = h.backup({ createdAt: '2026-03-02T00:00:00.000Z' });
  expect(doc).toMatchObject({ format: 'rae-sched-backup', version: 1, createdAt: '2026-03-02T00:00:00.000Z' });
  const other = tempDir();
  const h2 = await createPersistenceHandlers({ dataDir: other });
  try {
    // Through JSON, as `rae-sched backup FILE` / `restore FILE` do.
    expect(await h2.restore({ doc: JSON.parse(JSON.stringify(doc)) })).toEqual({ jobs: 2, runs: 6 });
    const back = h2.backup({ createdAt: doc.createdAt });
    expect(back).toEqual(doc);
    const a = doc.jobs[0]!;
    expect(h2.getJobByName({ name: a.name })?.id).toBe(a.id);
    expect(h2.listRuns({ jobId: a.id, limit: 1 })[0]).toEqual(h.listRuns({ jobId: a.id, limit: 1 })[0]);
    expect(h2.listUnfinishedRuns({})).toHaveLength(1);
  } finally {
    await h2.close({});
    removeDir(other);
  }
});

test('restore replaces the old contents, names included', async () => {
  await seed();
  const doc = h.backup({});
  await h.insertJob({ job: makeJob(9, { name: 'added-later' }) });
  await h.restore({ doc });
  expect(h.getJobByName({ name: 'added-later' })).toBeNull();
  expect(h.counts({})).toMatchObject({ jobs: 2, runs: 6, slots: 3 });
  // The freed name can be taken again: the name index was rebuilt, not left stale.
  await h.insertJob({ job: makeJob(10, { name: 'added-later' }) });
});

test.each([
  ['a wrong type deep inside', (d: Doc) => { d.jobs[1].schedule = 42; }, 'jobs[1].schedule', /expected string/],
  ['a missing field', (d: Doc) => { delete d.runs[3].status; }, 'runs[3].status', /./],
  ['a non-canonical slot time', (d: Doc) => { d.slots[2].at = 'yesterday'; }, 'slots[2].at', /ISO/],
  ['a wrong format tag', (d: Doc) => { d.format = 'other'; }, 'format', /./],
  ['a run of a job not in the document', (d: Doc) => { d.runs[4].jobId = 'job_ghost'; }, 'runs[4].jobId', /job_ghost/],
  ['a duplicate job name', (d: Doc) => { d.jobs[1].name = d.jobs[0].name; }, 'jobs[1].name', /duplicate/],
  ['a duplicate run id', (d: Doc) => { d.runs[1].id = d.runs[0].id; }, 'runs[1].id', /duplicate/],
])('restore of a document with %s names the path and changes nothing', async (_what, spoil, field, msg) => {
  await seed();
  const doc = h.backup({});
  const before = JSON.stringify(doc);
  const bad = JSON.parse(before);
  spoil(bad);
  // The store now differs from the document, so "nothing changed" is visible.
  await h.insertJob({ job: makeJob(9, { name: 'after-backup' }) });
  const snapshot = JSON.stringify(h.backup({ createdAt: doc.createdAt }));
  const err = await h.restore({ doc: bad }).then(() => null, (e: unknown) => e);
  expect(err).toMatchObject({ code: 'VALIDATION', field });
  expect((err as Error).message).toMatch(msg);
  expect((err as Error).message.startsWith(`${field}: `)).toBe(true);
  expect(JSON.stringify(h.backup({ createdAt: doc.createdAt }))).toBe(snapshot);
});

test('restore of something that is not a document at all is VALIDATION', async () => {
  await expect(h.restore({ doc: 'hello' })).rejects.toMatchObject({ code: 'VALIDATION' });
  await expect(h.restore({ doc: null })).rejects.toMatchObject({ code: 'VALIDATION' });
});

test('prune keeps the newest N runs and slots per job, never an unfinished run', async () => {
  const a = makeJob(1);
  const b = makeJob(2);
  await h.insertJob({ job: a });
  await h.insertJob({ job: b });
  // 1200 runs: more than two batches, with one unfinished run deep in the old part.
  const runs = Array.from({ length: 1200 }, (_, n) => makeRun(a.id, n, n === 10 ? { status: 'running', finishedAt: null } : {}));
  for (let i = 0; i < runs.length; i += 200) await Promise.all(runs.slice(i, i + 200).map((run) => h.putRun({ run })));
  for (let n = 0; n < 30; n++) await h.putSlot({ slot: makeSlot(a.id, n) });
  for (let n = 0; n < 2; n++) await h.putRun({ run: makeRun(b.id, n) });

  expect(await h.prune({ keepRunsPerJob: 50, keepSlotsPerJob: 10 })).toEqual({ runs: 1200 - 50 - 1, slots: 20 });
  const left = h.listRuns({ jobId: a.id });
  expect(left.slice(0, 50).map((r) => r.id)).toEqual(runs.slice(-50).map((r) => r.id).reverse());
  expect(left.map((r) => r.id)).toContain(runs[10]!.id);
  expect(left).toHaveLength(51);
  expect(h.listSlots({ jobId: a.id }).map((s) => s.at)).toEqual(
    Array.from({ length: 10 }, (_, k) => makeSlot(a.id, 29 - k).at));
  expect(h.listRuns({ jobId: b.id })).toHaveLength(2);
  expect(h.getRun({ id: runs[0]!.id })).toBeNull();
  expect(h.counts({})).toMatchObject({ runs: 53, slots: 10 });
  await expect(h.prune({ keepRunsPerJob: -1, keepSlotsPerJob: 1 })).rejects.toMatchObject({ code: 'VALIDATION', field: 'keepRunsPerJob' });
});

test('a store with a newer schema version is refused with PERSISTENCE', async () => {
  expect(h.counts({}).schemaVersion).toBe(SCHEMA_VERSION);
  await h.close({});
  const env = open(storePath(dir), envOptions(false));
  await env.openDB<number, string>('meta', {}).put(SCHEMA_KEY, SCHEMA_VERSION + 1);
  await env.close();
  await expect(Store.open({ dataDir: dir })).rejects.toMatchObject({ code: 'PERSISTENCE' });
  await expect(Store.open({ dataDir: dir, readOnly: true })).rejects.toMatchObject({ code: 'PERSISTENCE' });
  await expect(createPersistenceHandlers({ dataDir: dir })).rejects.toMatchObject({ code: 'PERSISTENCE' });
  // Leave a store afterEach can close.
  removeDir(dir);
  h = await createPersistenceHandlers({ dataDir: dir });
});
