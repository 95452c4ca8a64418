/**
 * Queries (SpawnCommon.queries): read-only message types answered beside the mailbox, each after
 * every other message received before it (happens-before), never holding back later messages or
 * other queries. The monitor's `health`, `stats` and `metrics` are queries (src/actors/monitor/actor.ts);
 * test/health/health-truth.int.test.ts shows it with the real actors in both placements.
 */
import { VirtualClock } from '../../src/runtime/clock';
import { ActorSystem } from '../../src/runtime/system';
import { deferred, type Deferred } from '../../src/runtime/incarnation';

/** An actor whose `write` adds to a log and whose `read` reads it; each waits on a gate the test holds. */
function gated() {
  const log: string[] = [];
  const gates = new Map<string, Deferred<void>>();
  const gate = (tag: string): Deferred<void> => {
    let g = gates.get(tag);
    if (g === undefined) gates.set(tag, (g = deferred<void>()));
    return g;
  };
  const started: string[] = [];
  const handlers = {
    write: async (p: { tag: string; hold?: boolean; fail?: boolean }) => {
      started.push(p.tag);
      if (p.hold === true) await gate(p.tag).promise;
      if (p.fail === true) throw new Error(`write ${p.tag} failed`);
      log.push(p.tag);
    },
    read: async (p: { tag: string; hold?: boolean }) => {
      started.push(p.tag);
      const seen = [...log];
      if (p.hold === true) await gate(p.tag).promise;
      return seen;
    },
  };
  return { log, started, release: (tag: string) => gate(tag).resolve(), handlers };
}

/** Lets every pending microtask and macrotask run (the mailbox hands messages over in both). */
const turns = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('ActorSystem: queries', () => {
  let system: ActorSystem;
  afterEach(() => system.stop());

  function spawn() {
    system = new ActorSystem({ clock: new VirtualClock() });
    const g = gated();
    const ref = system.spawn({ name: 'a', factory: () => g.handlers, queries: ['read'] });
    return { ...g, ref };
  }

  it('a query runs only after every message received before it, and sees all their effects', async () => {
    const a = spawn();
    const w1 = a.ref.ask('write', { tag: 'w1', hold: true });
    const w2 = a.ref.ask('write', { tag: 'w2' });
    const r = a.ref.ask('read', { tag: 'r' });
    await turns();
    // w1 is held: neither w2 (mailbox order) nor the query (received after w1 and w2) has run.
    expect(a.started).toEqual(['w1']);
    a.release('w1');
    expect(await r).toEqual(['w1', 'w2']);
    await Promise.all([w1, w2]);
  });

  it('queries run side by side, and later messages do not wait for them', async () => {
    const a = spawn();
    const r1 = a.ref.ask('read', { tag: 'r1', hold: true });
    const r2 = a.ref.ask('read', { tag: 'r2', hold: true });
    // Received after two queries that are still waiting: handled at once.
    await a.ref.ask('write', { tag: 'w' });
    // A third query sees the write and answers while the two before it still wait.
    expect(await a.ref.ask('read', { tag: 'r3' })).toEqual(['w']);
    expect(a.started).toEqual(['r1', 'r2', 'w', 'r3']);
    a.release('r2');
    a.release('r1');
    expect(await r1).toEqual([]);
    expect(await r2).toEqual([]);
    expect(a.ref.stats()).toMatchObject({ processed: 4, queued: 0 });
  });

  it('a query after a failed message still runs (the failure is that message\'s, not the mailbox\'s)', async () => {
    const a = spawn();
    const w = a.ref.ask('write', { tag: 'bad', hold: true, fail: true });
    w.catch(() => undefined);
    const r = a.ref.ask('read', { tag: 'r' });
    await turns();
    expect(a.started).toEqual(['bad']);
    a.release('bad');
    await expect(w).rejects.toThrow('write bad failed');
    expect(await r).toEqual([]);
  });

  it('without `queries` the same messages keep the one-at-a-time order', async () => {
    system = new ActorSystem({ clock: new VirtualClock() });
    const g = gated();
    const ref = system.spawn({ name: 'plain', factory: () => g.handlers });
    const r1 = ref.ask('read', { tag: 'r1', hold: true });
    const w = ref.ask('write', { tag: 'w' });
    await turns();
    expect(g.started).toEqual(['r1']);
    g.release('r1');
    await Promise.all([r1, w]);
    expect(g.started).toEqual(['r1', 'w']);
  });
});
