/**
 * Slots missed while the scheduler was down (or behind) are ONE range record per job and spell
 * (Slot.firstAt / count, keyed by its last slot), read back through the store and `why` with every
 * slot accounted for exactly once, and no slot run twice across restarts. Real LMDB, virtual clock.
 */
import { Store } from '../../src/actors/persistence/store';
import { slotCount } from '../../src/model/run';
import { checkSlots, readStore } from '../helpers/ledger';
import { useSchedulers } from '../helpers/scheduler';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const JOBS = 20;

describe('missed slots as ranges', () => {
  const fixture = useSchedulers();

  it("downtime: one range per job with its exact count; catch-up 'once' runs the newest; restarts run nothing twice", async () => {
    const a = await fixture.open(T0);
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      ids.push((await a.s.addJob({ name: `j${i}`, schedule: 'every 1s', command: 'true', catchUp: i % 2 === 0 ? 'none' : 'once' })).id);
    }
    await a.s.shutdown();
    // Down for 25 s: slots T0+1s .. T0+25s were missed (25 of them per job).
    const b = await fixture.open(T0 + 25_000);
    await b.runs.wait(JOBS / 2); // the 'once' jobs run their newest slot
    // Then a restart 12 s later: the second spell is its own range; the first is not recorded again.
    await b.s.shutdown();
    const c = await fixture.open(T0 + 37_000);
    await c.runs.wait(JOBS / 2);
    await c.s.shutdown();

    const store = await Store.open({ dataDir: fixture.dir(), readOnly: true });
    try {
      for (let i = 0; i < JOBS; i++) {
        const slots = store.listSlots(ids[i]!, 1000).reverse();
        const missed = slots.filter((sl) => sl.outcome === 'missed');
        const once = i % 2 === 1;
        // One record per spell, not one per slot; the counts add up to every slot of the spell.
        expect(missed.map((sl) => [sl.firstAt ?? sl.at, sl.at, slotCount(sl)])).toEqual([
          [new Date(T0 + 1000).toISOString(), new Date(T0 + (once ? 24_000 : 25_000)).toISOString(), once ? 24 : 25],
          [new Date(T0 + 26_000).toISOString(), new Date(T0 + (once ? 36_000 : 37_000)).toISOString(), once ? 11 : 12],
        ]);
        expect(slots.filter((sl) => sl.outcome === 'caught-up').map((sl) => sl.at))
          .toEqual(once ? [new Date(T0 + 25_000).toISOString(), new Date(T0 + 37_000).toISOString()] : []);
        expect(slots.reduce((n, sl) => n + slotCount(sl), 0)).toBe(37);
      }
    } finally {
      await store.close();
    }
    const { jobs } = await readStore(fixture.dir(), ids);
    for (const id of ids) expect(checkSlots(jobs.get(id)!, 1000)).toEqual([]);
  }, 60_000);

  it('why shows a range as one entry with its count', async () => {
    const a = await fixture.open(T0);
    await a.s.addJob({ name: 'w', schedule: 'every 1s', command: 'true', catchUp: 'none' });
    await a.s.shutdown();
    const b = await fixture.open(T0 + 10_000);
    const why = await b.s.why('w');
    const missed = why.slots.filter((sl) => sl.outcome === 'missed');
    expect(missed).toHaveLength(1);
    expect([missed[0]!.firstAt, missed[0]!.at, missed[0]!.count]).toEqual([new Date(T0 + 1000).toISOString(), new Date(T0 + 10_000).toISOString(), 10]);
    expect(missed[0]!.reason).toMatch(/not running.*10 slots from 2030-01-01T00:00:01.000Z to 2030-01-01T00:00:10.000Z/);
  });
});
