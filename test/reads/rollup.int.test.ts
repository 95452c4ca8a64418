/** Run statistics rolled up in the store as runs finish: kept, read at restart, never rescanned. */
import { useSchedulers } from '../helpers/scheduler';
import { Store } from '../../src/actors/persistence/store';
import { openTables } from '../../src/actors/persistence/tables';
import { emptyRollup, GLOBAL_KEY, ROLLUP_META_KEY, rollUpFinal } from '../../src/actors/persistence/rollup';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

describe('statistics rolled up in the store', () => {
  const fixture = useSchedulers();

  /** The rollup records as stored (a read-only view beside the running scheduler: same process, one LMDB env). */
  async function stored(dir: string): Promise<{ all: ReturnType<Store['runRollup']>; ok: ReturnType<Store['runRollup']> }> {
    const store = await Store.open({ dataDir: dir, readOnly: true });
    try {
      const ok = store.getJobByName('ok')!;
      return { all: store.runRollup(), ok: store.runRollup(ok.id) };
    } finally {
      await store.close();
    }
  }

  it('counts every finished run in the same transaction as its final record, per job and in all', async () => {
    const a = await fixture.open(T0);
    await a.s.addJob({ name: 'ok', schedule: 'never', command: 'true' });
    await a.s.addJob({ name: 'bad', schedule: 'never', command: 'exit 3' });
    for (const name of ['ok', 'ok', 'bad']) await a.s.runNow(name);
    const runs = await a.runs.wait(3);
    const { all, ok } = await stored(fixture.dir());
    expect(all.counts).toMatchObject({ succeeded: 2, failed: 1, skipped: 0 });
    expect(ok.counts).toMatchObject({ succeeded: 2, failed: 0 });
    expect(all.durations.n).toBe(3);
    expect(all.durations.maxMs).toBe(Math.max(...runs.map((r) => r.durationMs!)));
    expect(all.lastFinishedAt).toBe(runs.map((r) => r.finishedAt!).sort().at(-1));
    const stats = await a.s.stats();
    expect(stats.runs).toMatchObject({ total: 3, succeeded: 2, failed: 1, successRate: 2 / 3 });
    expect(stats.durationMs.max).toBe(all.durations.maxMs);
  }, 120_000);

  it('reads the stored rollup at restart instead of rescanning history, and keeps adding to it', async () => {
    const a = await fixture.open(T0);
    await a.s.addJob({ name: 'ok', schedule: 'never', command: 'true' });
    await a.s.runNow('ok');
    await a.runs.wait(1);
    await a.s.shutdown();
    // Overwrite the global record with numbers no scan of the one stored run could produce.
    const t = openTables(fixture.dir(), false);
    await t.env.childTransaction(() => {
      void t.stats.put(GLOBAL_KEY, { ...emptyRollup(), counts: { ...emptyRollup().counts, succeeded: 1000, failed: 234 } });
    });
    await t.env.flushed;
    await t.env.close();

    const b = await fixture.open(T0 + 60_000);
    expect((await b.s.stats()).runs).toMatchObject({ total: 1234, succeeded: 1000, failed: 234 });
    await b.s.runNow('ok');
    await b.runs.wait(1);
    expect((await b.s.stats()).runs).toMatchObject({ total: 1235, succeeded: 1001 });
  }, 120_000);

  it('rebuilds the rollup once from stored runs when the store predates it', async () => {
    const a = await fixture.open(T0);
    await a.s.addJob({ name: 'ok', schedule: 'never', command: 'true' });
    await a.s.runNow('ok');
    await a.s.runNow('ok');
    await a.runs.wait(2);
    await a.s.shutdown();
    // A store written before the rollup existed: no version mark, no records.
    const t = openTables(fixture.dir(), false);
    await t.env.childTransaction(() => {
      for (const key of [...t.stats.getKeys({})]) void t.stats.remove(key);
      void t.meta.remove(ROLLUP_META_KEY);
    });
    await t.env.flushed;
    await t.env.close();

    const b = await fixture.open(T0 + 60_000);
    expect((await b.s.stats()).runs).toMatchObject({ total: 2, succeeded: 2 });
    expect((await stored(fixture.dir())).ok.counts.succeeded).toBe(2);
  }, 120_000);

  it('counts two runs finishing in one transaction, and a run put final twice in it once (reads see the transaction\'s own writes)', async () => {
    const a = await fixture.open(T0);
    await a.s.addJob({ name: 'ok', schedule: 'never', command: 'true' });
    await a.s.runNow('ok');
    await a.s.runNow('ok');
    const [r1, r2] = await a.runs.wait(2);
    await a.s.shutdown();
    const t = openTables(fixture.dir(), false);
    try {
      await t.env.childTransaction(() => {
        for (const key of [...t.stats.getKeys({})]) void t.stats.remove(key);
        // Each finish over its `running` record: the second must see the record the first wrote.
        rollUpFinal(t, r1!, { ...r1!, status: 'running' });
        rollUpFinal(t, r2!, { ...r2!, status: 'running' });
        // r1 again, over its stored final record: not counted twice.
        rollUpFinal(t, r1!, t.runs.get([r1!.jobId, r1!.id]));
      });
      await t.env.flushed;
      expect(t.stats.get(GLOBAL_KEY)?.counts.succeeded).toBe(2);
    } finally {
      await t.env.close();
    }
  }, 120_000);

  it('does not count a final record written twice', async () => {
    const a = await fixture.open(T0);
    await a.s.addJob({ name: 'ok', schedule: 'never', command: 'true' });
    await a.s.runNow('ok');
    const [run] = await a.runs.wait(1);
    await a.s.shutdown();
    const store = await Store.open({ dataDir: fixture.dir() });
    try {
      await store.putRun(run!);
      expect(store.runRollup().counts.succeeded).toBe(1);
    } finally {
      await store.close();
    }
  }, 120_000);
});
