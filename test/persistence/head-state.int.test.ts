/**
 * Schema 6: every job head carries its job's schedule state (start-up reads one record per job).
 * The copy is written in the same transaction as the state it summarises, by every writer; a store
 * of schema 5 (heads without it) reads as before, read-only, and is rebuilt when opened for writing.
 */
import { open } from 'lmdb';
import { decodeHead, encodeHead } from '../../src/actors/persistence/codecs';
import { Store } from '../../src/actors/persistence/store';
import { SCHEMA_KEY, SCHEMA_VERSION, envOptions, storePath, type JobHead } from '../../src/actors/persistence/tables';
import type { ScheduleState } from '../../src/actors/persistence/schema';
import { makeJob, removeDir, tempDir } from './helpers/fixtures';

const NOW = Date.parse('2026-03-01T00:00:00.000Z');
const state = (jobId: string, next: string, over: Partial<ScheduleState> = {}): ScheduleState =>
  ({ jobId, lastSlotAt: '2026-03-01T00:00:00.000Z', nextRunAt: next, anchorAt: null, ...over });

/** The heads as stored (decoded), by job id. */
function storedHeads(dir: string): Map<string, JobHead> {
  const env = open(storePath(dir), envOptions(true));
  try {
    const raw = env.openDB<Buffer, string>('heads', { encoding: 'binary' });
    return new Map([...raw.getRange({})].map(({ key, value }) => [key, decodeHead(value)]));
  } finally {
    void env.close();
  }
}

/** Rewrites a store's heads as schema 5 wrote them (no state) and marks it version 5. */
async function downgradeToV5(dir: string): Promise<void> {
  const env = open(storePath(dir), envOptions(false));
  const raw = env.openDB<Buffer, string>('heads', { encoding: 'binary' });
  const all = [...raw.getRange({})].map(({ key, value }) => {
    const { state: _carried, ...head } = decodeHead(value);
    return [key, encodeHead(head)] as const;
  });
  await env.transaction(() => {
    for (const [key, bytes] of all) void raw.put(key, bytes);
  });
  await env.openDB<number, string>('meta', {}).put(SCHEMA_KEY, 5);
  await env.close();
}

describe('heads carry the schedule state (schema 6)', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => removeDir(dir));

  it('every state write updates the head in the same transaction; a failed one changes neither', async () => {
    const store = await Store.open({ dataDir: dir });
    const [a, b, c, d] = [makeJob(1), makeJob(2), makeJob(3), makeJob(4)];
    await store.insertJob(a, state(a.id, '2026-03-01T00:05:00.000Z'));
    await store.insertJobs([{ job: b, state: state(b.id, '2026-03-01T00:10:00.000Z') }, { job: c }]);
    await store.insertJob(d);
    await store.putScheduleState(state(c.id, '2026-03-01T00:15:00.000Z', { offsetMs: 60_000 }));
    await store.commitBatch({ fires: [], runs: [], states: [state(d.id, '2026-03-01T00:20:00.000Z')] });
    // Renamed: the head is written again, keeping the state stored for the job.
    await store.updateJob({ ...a, name: 'renamed' });
    // One job of the batch does not exist: the whole transaction rolls back, head and state alike.
    await expect(store.putScheduleStates([state(b.id, '2026-03-01T01:00:00.000Z'), state('job_missing', '2026-03-01T01:00:00.000Z')])).rejects.toThrow('no job');
    await store.close();
    const heads = storedHeads(dir);
    const next = (id: string) => heads.get(id)?.state?.next;
    expect(heads.get(a.id)?.name).toBe('renamed');
    expect(next(a.id)).toBe(Date.parse('2026-03-01T00:05:00.000Z'));
    expect(next(b.id)).toBe(Date.parse('2026-03-01T00:10:00.000Z'));
    expect(heads.get(c.id)?.state).toEqual({ last: NOW, next: Date.parse('2026-03-01T00:15:00.000Z'), anchor: NaN, offsetMs: 60_000 });
    expect(next(d.id)).toBe(Date.parse('2026-03-01T00:20:00.000Z'));
    // And the state table agrees with every head (a tagged state read in today's frame, offset 0).
    const ro = await Store.open({ dataDir: dir, readOnly: true });
    for (const [id, head] of heads) {
      expect((head.state?.next ?? NaN) - (head.state?.offsetMs ?? 0)).toBe(Date.parse(ro.getScheduleState(id)?.nextRunAt ?? 'none'));
    }
    await ro.close();
  });

  it('a job without a state has a head saying so (null), not unknown', async () => {
    const store = await Store.open({ dataDir: dir });
    const job = makeJob(1);
    await store.insertJob(job);
    await store.close();
    expect(storedHeads(dir).get(job.id)?.state).toBeNull();
  });

  it('a schema 5 store: read-only as it is (states from their table), rebuilt with the states when opened for writing', async () => {
    let store = await Store.open({ dataDir: dir });
    const jobs = [makeJob(1), makeJob(2), makeJob(3, { enabled: false })];
    for (const j of jobs) await store.insertJob(j);
    await store.putScheduleStates([state(jobs[0]!.id, '2026-03-01T00:05:00.000Z'), state(jobs[2]!.id, '2026-03-01T00:07:00.000Z', { offsetMs: 0 })]);
    const before = store.jobPage(null, 10, NOW);
    await store.close();
    await downgradeToV5(dir);
    expect([...storedHeads(dir).values()].every((h) => h.state === undefined)).toBe(true);

    // A CLI command without a daemon: nothing rewritten, the page reads the states table.
    store = await Store.open({ dataDir: dir, readOnly: true });
    expect(store.schemaVersion).toBe(5);
    expect(store.jobPage(null, 10, NOW)).toEqual(before);
    // Paging from a job in the middle: the states cursor starts there too.
    expect(store.jobPage(jobs[0]!.id, 10, NOW).next).toEqual(before.next.slice(1));
    await store.close();
    expect([...storedHeads(dir).values()].every((h) => h.state === undefined)).toBe(true);

    store = await Store.open({ dataDir: dir });
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    expect(store.jobPage(null, 10, NOW)).toEqual(before);
    await store.close();
    const heads = storedHeads(dir);
    expect(heads.get(jobs[0]!.id)?.state?.next).toBe(Date.parse('2026-03-01T00:05:00.000Z'));
    expect(heads.get(jobs[1]!.id)?.state).toBeNull();
    expect(heads.get(jobs[2]!.id)?.state?.offsetMs).toBe(0);
  });

  it('heads missing altogether are rebuilt from the jobs, each with its state', async () => {
    let store = await Store.open({ dataDir: dir });
    const job = makeJob(1);
    await store.insertJob(job, state(job.id, '2026-03-01T00:05:00.000Z'));
    const before = store.jobPage(null, 10, NOW);
    await store.close();
    const env = open(storePath(dir), envOptions(false));
    const heads = env.openDB<Buffer, string>('heads', { encoding: 'binary' });
    await heads.remove(job.id);
    await env.close();
    store = await Store.open({ dataDir: dir });
    expect(store.jobPage(null, 10, NOW)).toEqual(before);
    await store.close();
    expect(storedHeads(dir).get(job.id)?.state?.next).toBe(Date.parse('2026-03-01T00:05:00.000Z'));
  });
});
