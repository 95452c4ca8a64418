/**
 * A store written by schema version 1 (msgpack heads and states) still opens: read-only as it is,
 * and for writing after a one-pass migration to the compact encoding of version 2 (codecs.ts).
 * A version 2 store (msgpack runs) opens too: its runs read as they are, new runs are compact.
 */
import { open } from 'lmdb';
import { decodeHead, decodeState, isCompact } from '../../src/actors/persistence/codecs';
import { Store } from '../../src/actors/persistence/store';
import { SCHEMA_KEY, SCHEMA_VERSION, envOptions, storePath } from '../../src/actors/persistence/tables';
import { makeJob, makeRun, removeDir, tempDir } from './helpers/fixtures';

/** Rewrites a store's heads and states as version 1 wrote them (lmdb's default msgpack) and marks it version 1. */
async function downgradeToV1(dir: string): Promise<void> {
  const env = open(storePath(dir), envOptions(false));
  for (const [name, decode] of [['heads', decodeHead], ['states', decodeState]] as const) {
    const raw = env.openDB<Buffer, string>(name, { encoding: 'binary' });
    const msgpack = env.openDB<unknown, string>(name, {});
    // (Version 1 heads carried no state: the copy schema 7 heads hold is left out.)
    const all = [...raw.getRange({})].map(({ key, value }) => {
      const { state: _carried, ...rest } = decode(value) as { state?: unknown };
      return [key, name === 'heads' ? rest : decode(value)] as const;
    });
    await env.transaction(() => {
      for (const [key, value] of all) void msgpack.put(key, value);
    });
  }
  await env.openDB<number, string>('meta', {}).put(SCHEMA_KEY, 1);
  await env.close();
}

/** Whether every stored head and state is in the compact encoding. */
function allCompact(dir: string): boolean {
  const env = open(storePath(dir), envOptions(true));
  try {
    return ['heads', 'states'].every((name) => [...env.openDB<Buffer, string>(name, { encoding: 'binary' }).getRange({})].every(({ value }) => isCompact(value)));
  } finally {
    void env.close();
  }
}

test('a version 1 store opens read-only as it is, then migrates to the compact encoding', async () => {
  const dir = tempDir();
  try {
    let store = await Store.open({ dataDir: dir });
    const jobs = [makeJob(1), makeJob(2, { enabled: false, timezone: 'Europe/Paris' }), makeJob(3, { triggers: [{ type: 'after', job: 'job-1', on: 'failed' }] })];
    for (const j of jobs) await store.insertJob(j);
    await store.putScheduleStates([{ jobId: jobs[0]!.id, lastSlotAt: '2030-01-01T00:00:00.000Z', nextRunAt: '2030-01-01T00:05:00.000Z', anchorAt: null }]);
    const before = store.jobPage(null, 10, 0);
    await store.close();
    await downgradeToV1(dir);
    expect(allCompact(dir)).toBe(false);

    // Read-only (a CLI command without a daemon): the old values decode, nothing is rewritten.
    store = await Store.open({ dataDir: dir, readOnly: true });
    expect(store.schemaVersion).toBe(1);
    expect(store.jobPage(null, 10, 0)).toEqual(before);
    expect(store.getScheduleState(jobs[0]!.id)?.nextRunAt).toBe('2030-01-01T00:05:00.000Z');
    await store.close();
    expect(allCompact(dir)).toBe(false);

    // For writing: migrated in one pass, same content.
    store = await Store.open({ dataDir: dir });
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    expect(store.jobPage(null, 10, 0)).toEqual(before);
    expect(store.getScheduleState(jobs[0]!.id)).toEqual({ jobId: jobs[0]!.id, lastSlotAt: '2030-01-01T00:00:00.000Z', nextRunAt: '2030-01-01T00:05:00.000Z', anchorAt: null });
    await store.close();
    expect(allCompact(dir)).toBe(true);
  } finally {
    removeDir(dir);
  }
});

test('a version 2 store (msgpack runs) opens: its runs read as they are, new runs are written compact', async () => {
  const dir = tempDir();
  try {
    let store = await Store.open({ dataDir: dir });
    const job = makeJob(1);
    await store.insertJob(job);
    const old = makeRun(job.id, 1);
    await store.close();
    // As version 2 wrote it: the run in lmdb's default msgpack, the store marked version 2.
    let env = open(storePath(dir), envOptions(false));
    await env.openDB<unknown, [string, string]>('runs', {}).put([old.jobId, old.id], old);
    await env.openDB<string, string>('runJob', {}).put(old.id, old.jobId);
    await env.openDB<number, string>('meta', {}).put(SCHEMA_KEY, 2);
    await env.close();

    store = await Store.open({ dataDir: dir, readOnly: true });
    expect(store.schemaVersion).toBe(2);
    expect(store.getRun(old.id)).toEqual(old);
    await store.close();

    store = await Store.open({ dataDir: dir });
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    const fresh = makeRun(job.id, 2);
    await store.putRun(fresh);
    expect(store.getRun(old.id)).toEqual(old);
    expect(store.getRun(fresh.id)).toEqual(fresh);
    await store.close();

    env = open(storePath(dir), envOptions(true));
    const raw = env.openDB<Buffer, [string, string]>('runs', { encoding: 'binary' });
    expect(isCompact(raw.get([old.jobId, old.id])!)).toBe(false);
    expect(isCompact(raw.get([fresh.jobId, fresh.id])!)).toBe(true);
    await env.close();
  } finally {
    removeDir(dir);
  }
});
