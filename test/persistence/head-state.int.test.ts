/**
 * Schema 7: every job head carries its job's schedule state (start-up reads one record per job).
 * The copy is written in the same transaction as the state it summarises, by every writer (a tagged
 * state's copy keeps its clock offset); a store of schema 5 or 6 (heads without it; slots untagged
 * in 5, tagged in 6) reads as before, read-only, and is migrated when opened for writing: the heads
 * rebuilt and, from 5, the untagged slots' clock base recorded, in one transaction.
 */
import { open } from 'lmdb';
import { decodeHead, encodeHead } from '../../src/actors/persistence/codecs';
import { CLOCK_OFFSET_KEY, CLOCK_SEQ_KEY, CLOCK_SLOT_BASE_KEY } from '../../src/actors/persistence/clock-frame';
import { Store } from '../../src/actors/persistence/store';
import { SCHEMA_KEY, SCHEMA_VERSION, envOptions, storePath, type JobHead } from '../../src/actors/persistence/tables';
import type { Batch } from '../../src/actors/persistence/port';
import type { ScheduleState } from '../../src/actors/persistence/schema';
import { makeJob, makeSlot, removeDir, tempDir } from './helpers/fixtures';

const NOW = Date.parse('2026-03-01T00:00:00.000Z');
const plus = (at: string, ms: number): string => new Date(Date.parse(at) + ms).toISOString();
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

const STEP = 180_000;
const batch = (p: Partial<Batch>): Batch => ({ fires: [], runs: [], states: [], ...p });

/** A `meta` value as stored. */
function metaOf(dir: string, key: string): unknown {
  const env = open(storePath(dir), envOptions(true));
  try {
    return env.openDB<unknown, string>('meta', {}).get(key);
  } finally {
    void env.close();
  }
}

/** Rewrites a store's heads as schema 6 and before wrote them (no state) and marks it `version`. */
async function downgrade(dir: string, version: number): Promise<void> {
  const env = open(storePath(dir), envOptions(false));
  const raw = env.openDB<Buffer, string>('heads', { encoding: 'binary' });
  const all = [...raw.getRange({})].map(({ key, value }) => {
    const { state: _carried, ...head } = decodeHead(value);
    return [key, encodeHead(head)] as const;
  });
  await env.transaction(() => {
    for (const [key, bytes] of all) void raw.put(key, bytes);
  });
  await env.openDB<number, string>('meta', {}).put(SCHEMA_KEY, version);
  await env.close();
}

describe('heads carry the schedule state (schema 7)', () => {
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
    // A fire below the backward fence (clock-frame.ts): its tagged slot goes with its job's tagged
    // state, in the batch that also carries the step record.
    const e = makeJob(5);
    await store.insertJob(e);
    const slot = makeSlot(e.id, 1);
    await store.commitBatch(batch({
      clock: { seq: 1, offsetMs: -STEP, fenceMs: Date.parse(slot.at) + STEP },
      fires: [{ slot, run: null, offsetMs: -STEP }],
      states: [state(e.id, '2026-03-01T01:06:00.000Z', { lastSlotAt: slot.at, offsetMs: -STEP })],
    }));
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
    expect(heads.get(e.id)?.state).toEqual({ last: Date.parse(slot.at), next: Date.parse('2026-03-01T01:06:00.000Z'), anchor: NaN, offsetMs: -STEP });
    // And the state table agrees with every head (a tagged state read in today's frame, offset -STEP).
    const ro = await Store.open({ dataDir: dir, readOnly: true });
    for (const [id, head] of heads) {
      const by = head.state?.offsetMs === undefined ? 0 : -STEP - head.state.offsetMs;
      expect((head.state?.next ?? NaN) + by).toBe(Date.parse(ro.getScheduleState(id)?.nextRunAt ?? 'none'));
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

  it.each([5, 6])('a schema %i store: read-only as it is (states from their table), rebuilt with the states when opened for writing', async (version) => {
    let store = await Store.open({ dataDir: dir });
    const jobs = [makeJob(1), makeJob(2), makeJob(3, { enabled: false })];
    for (const j of jobs) await store.insertJob(j);
    await store.putScheduleStates([state(jobs[0]!.id, '2026-03-01T00:05:00.000Z'), state(jobs[2]!.id, '2026-03-01T00:07:00.000Z', { offsetMs: 0 })]);
    const before = store.jobPage(null, 10, NOW);
    await store.close();
    await downgrade(dir, version);
    expect([...storedHeads(dir).values()].every((h) => h.state === undefined)).toBe(true);

    // A CLI command without a daemon: nothing rewritten, the page reads the states table.
    store = await Store.open({ dataDir: dir, readOnly: true });
    expect(store.schemaVersion).toBe(version);
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

  // Stores as the builds before schema 7 left them after a clock step of +1 min: an interval job's
  // state tagged, its newest slot untagged (schema 5: putSlot writes a plain slot) or tagged (6: a
  // fire with its offset); a calendar job untagged. Heads without states in both.
  it.each([
    { version: 5, base: 60_000 },
    { version: 6, base: undefined },
  ])('a schema $version store with a clock step handled reads in its frame read-only, and migrated (one transaction) after another step', async ({ version, base }) => {
    const iv = makeJob(1);
    const cron = makeJob(2, { schedule: '0 * * * *', timezone: 'UTC' });
    const ivSlot = makeSlot(iv.id, 1);
    const cronSlot = makeSlot(cron.id, 1);
    let store = await Store.open({ dataDir: dir });
    await store.commitBatch(batch({ clock: { seq: 1, offsetMs: 60_000 } }));
    await store.insertJob(iv, { jobId: iv.id, lastSlotAt: null, nextRunAt: ivSlot.at, anchorAt: iv.createdAt, offsetMs: 60_000 });
    await store.insertJob(cron, { jobId: cron.id, lastSlotAt: null, nextRunAt: cronSlot.at, anchorAt: null });
    if (version === 5) await store.putSlot(ivSlot);
    else await store.commitBatch(batch({ fires: [{ slot: ivSlot, run: null, offsetMs: 60_000 }] }));
    await store.putSlot(cronSlot);
    await store.close();
    await downgrade(dir, version);
    // Both stored next slots within the lookahead: the watermark is derived from the newest slot.
    const now = Date.parse(ivSlot.at) + 1000;

    store = await Store.open({ dataDir: dir, readOnly: true });
    const before = store.jobPage(null, 10, now);
    await store.close();
    expect(before.ids).toEqual([iv.id, cron.id]);
    expect(before.last).toEqual(Float64Array.from([Date.parse(ivSlot.at), Date.parse(cronSlot.at)]));
    expect(before.next[0]).toBe(Date.parse(ivSlot.at));

    store = await Store.open({ dataDir: dir });
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    expect(store.jobPage(null, 10, now)).toEqual(before);
    // A step back: the interval job's state (its head's copy) and its slot move; the calendar job's do not.
    await store.commitBatch(batch({ clock: { seq: 2, offsetMs: 60_000 - STEP } }));
    const after = store.jobPage(null, 10, now);
    expect(store.getScheduleState(iv.id)?.lastSlotAt).toBe(plus(ivSlot.at, -STEP));
    await store.close();
    expect(after.last).toEqual(Float64Array.from([Date.parse(ivSlot.at) - STEP, Date.parse(cronSlot.at)]));
    expect(after.next).toEqual(Float64Array.from([before.next[0]! - STEP, before.next[1]!]));
    expect(after.flags).toEqual(before.flags);
    expect(metaOf(dir, CLOCK_SLOT_BASE_KEY)).toBe(base);
    const heads = storedHeads(dir);
    expect(heads.get(iv.id)?.state?.offsetMs).toBe(60_000);
    expect(heads.get(cron.id)?.state).toEqual({ last: NaN, next: Date.parse(cronSlot.at), anchor: NaN });
  });

  it('a schema 5 store whose migration fails half-way is left as it was: no version, no clock base, heads as they were', async () => {
    const store = await Store.open({ dataDir: dir });
    const [a, b] = [makeJob(1), makeJob(2)];
    await store.commitBatch(batch({ clock: { seq: 1, offsetMs: 60_000 } }));
    await store.insertJob(a, state(a.id, '2026-03-01T00:05:00.000Z'));
    await store.insertJob(b, state(b.id, '2026-03-01T00:05:00.000Z'));
    await store.close();
    await downgrade(dir, 5);
    // The second job's state unreadable (a msgpack record cut short): the head rewrite throws on
    // it, after the first head is written.
    const env = open(storePath(dir), envOptions(false));
    const states = env.openDB<Buffer, string>('states', { encoding: 'binary' });
    await states.put(b.id, Buffer.from([0x92, 0xc1]));
    await env.close();
    const heads = storedHeads(dir);

    await expect(Store.open({ dataDir: dir })).rejects.toThrow(/cannot open store/);
    expect(metaOf(dir, SCHEMA_KEY)).toBe(5);
    expect(metaOf(dir, CLOCK_OFFSET_KEY)).toBe(60_000);
    expect(metaOf(dir, CLOCK_SEQ_KEY)).toBe(1);
    expect(metaOf(dir, CLOCK_SLOT_BASE_KEY)).toBeUndefined();
    expect(storedHeads(dir)).toEqual(heads);
  });
});
