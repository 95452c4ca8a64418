/**
 * Placement is configuration: the same actor logic on the main thread or in its own worker thread
 * (real threads, the generic entry), refs between actors in any placement, peer death and restart.
 */
import { join } from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { SystemClock } from '../../src/runtime/clock';
import { ActorSystem } from '../../src/runtime/system';
import { actorModule, type ActorRef, type Placement, type RuntimeEvent } from '../../src/runtime/types';
import type { CounterPeers, CounterProtocol } from './fixtures/counter-actor';

const counter = actorModule<typeof import('./fixtures/counter-actor')>(join(__dirname, 'fixtures', 'counter-actor.js')).logic('createCounter');

/** Polls `pred` every turn of the event loop, for at most 20 s (then fails, naming what it waited for). */
async function until(pred: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

const outcome = (p: Promise<unknown>) => p.then(
  (value) => ({ value }),
  (e: Error & { code?: string }) => ({ code: e.code, name: e.name }),
);

describe('placement main vs thread (real worker threads)', () => {
  let system: ActorSystem;
  const next = (type: RuntimeEvent['type'], actor: string) =>
    firstValueFrom(system.events$.pipe(filter((e) => e.type === type && 'actor' in e && e.actor === actor)));

  beforeEach(() => {
    // Ask timeout far above jest's 30 s: a call that should fail promptly must not pass by timing out.
    system = new ActorSystem({ clock: new SystemClock(), askTimeoutMs: 120_000, intensity: { maxRestarts: 20, periodMs: 60_000 } });
  });
  afterEach(() => system.stop());

  async function script(ref: ActorRef<CounterProtocol>): Promise<unknown[]> {
    return [
      await outcome(ref.ask('add', { n: 2 })),
      await outcome(ref.ask('add', { n: 3 })),
      await outcome(ref.ask('fail', { kind: 'expected' })),
      await outcome(ref.ask('fail', { kind: 'unexpected' })),
      await outcome(ref.ask('nope' as 'total', undefined)),
      await outcome(ref.ask('addVia', { peer: 'left', n: 1 })),
      await outcome(ref.ask('total', undefined)),
    ];
  }

  it('the same logic gives the same replies and the same errors (code and name) in both placements', async () => {
    const main = system.spawn({ name: 'm', logic: counter, init: { start: 10 } });
    const thread = system.spawn({ name: 't', logic: counter, placement: 'thread', init: { start: 10 } });
    const [onMain, onThread] = [await script(main), await script(thread)];
    expect(onMain).toEqual([
      { value: 12 }, { value: 15 },
      { code: 'NOT_FOUND', name: 'NotFoundError' },
      { code: undefined, name: 'TypeError' },
      { code: 'VALIDATION', name: 'ValidationError' },
      { code: 'NOT_FOUND', name: 'NotFoundError' },
      { value: 15 },
    ]);
    // Across the thread the unexpected TypeError keeps its name; its code is INTERNAL.
    expect(onThread).toEqual(onMain.map((o, i) => (i === 3 ? { code: 'INTERNAL', name: 'TypeError' } : o)));
    expect(await main.ask('where', undefined)).toBe(0);
    expect(await thread.ask('where', undefined)).not.toBe(0);
  });

  /** m (main) <-> a (thread) <-> b (thread); a's left is m, right is b; b's left is m, right is a. */
  function triangle() {
    // Peers as a function: resolved at each (re)start, so actors can refer to each other.
    const r = {} as Record<'m' | 'a' | 'b', ActorRef<CounterProtocol>>;
    r.m = system.spawn({ name: 'm', logic: counter, init: { start: 0 }, peers: () => ({ right: r.a }) });
    r.a = system.spawn({ name: 'a', logic: counter, placement: 'thread', init: { start: 100 }, peers: (): CounterPeers => ({ left: r.m, right: r.b }) });
    r.b = system.spawn({ name: 'b', logic: counter, placement: 'thread', init: { start: 200 }, peers: (): CounterPeers => ({ left: r.m, right: r.a }) });
    return r;
  }

  it('a thread actor asks and tells a main-thread actor and another thread actor, both directions', async () => {
    const { m, a, b } = triangle();
    expect(await a.ask('addVia', { peer: 'left', n: 1 })).toBe(1); // thread -> main
    expect(await a.ask('addVia', { peer: 'right', n: 2 })).toBe(202); // thread -> thread
    expect(await b.ask('addVia', { peer: 'right', n: 3 })).toBe(103); // thread -> thread, other way
    expect(await m.ask('addVia', { peer: 'right', n: 4 })).toBe(107); // main -> thread
    expect(await m.ask('relay', { peer: 'right', then: 'right', n: 5 })).toBe(207); // main -> thread -> thread
    expect(await a.ask('relay', { peer: 'right', then: 'left', n: 6 })).toBe(7); // thread -> thread -> main
    a.tell('tellVia', { peer: 'left', n: 10 });
    b.tell('tellVia', { peer: 'right', n: 10 });
    // Tells are ordered per sender: an ask sent after them by the same actor sees them done.
    expect(await a.ask('addVia', { peer: 'left', n: 0 })).toBe(17);
    expect(await b.ask('addVia', { peer: 'right', n: 0 })).toBe(117);
    expect(await a.ask('where', undefined)).not.toBe(await b.ask('where', undefined));
  });

  it('a peer deadline is enforced: asking a busy peer rejects ASK_TIMEOUT, and the asker lives on', async () => {
    const { a, b } = triangle();
    // Both started first: a fault on an actor that is still starting would hit no incarnation.
    await Promise.all([a.ask('total', undefined), b.ask('total', undefined)]);
    const hung = outcome(b.ask('hang', undefined));
    expect(await outcome(a.ask('addVia', { peer: 'right', n: 1, timeoutMs: 200 }))).toEqual({ code: 'ASK_TIMEOUT', name: 'AskTimeoutError' });
    expect(await a.ask('addVia', { peer: 'left', n: 1 })).toBe(1);
    expect(await system.fault('b')).toBe(true);
    expect(await hung).toMatchObject({ code: 'ACTOR_DEAD' });
  });

  const peers: Array<[Placement, 'left' | 'right', 'm' | 'b', number]> = [['main', 'left', 'm', 0], ['thread', 'right', 'b', 200]];
  it.each(peers)('a %s peer dying mid-ask fails the call at once; the ref survives its restart (stashed meanwhile)', async (_, side, name, start) => {
    const actors = triangle();
    const peer = actors[name];
    expect(await actors.a.ask('addVia', { peer: side, n: 5 })).toBe(start + 5);
    const asking = outcome(actors.a.ask('hangVia', { peer: side }));
    // Wait until the peer is handling the hang (in flight), then kill it.
    await until(() => peer.stats().queued > 0, `${name} handling the hang`);
    const restarted = next('actor.restarted', name);
    expect(await system.fault(name)).toBe(true);
    expect(await asking).toEqual({ code: 'ACTOR_DEAD', name: 'ActorDeadError' });
    // Sent while the peer may still be restarting: stashed, then served by the new incarnation,
    // whose init rebuilt its state (the 5 added before the crash are gone).
    const during = actors.a.ask('addVia', { peer: side, n: 1 });
    await restarted;
    expect(await during).toBe(start + 1);
    expect(await actors.a.ask('addVia', { peer: side, n: 1 })).toBe(start + 2);
    expect(peer.stats()).toMatchObject({ restarts: 1, alive: true });
  });

  it('the asker restarting gets fresh channels to its peers', async () => {
    const { a, b } = triangle();
    await b.ask('total', undefined);
    const first = await a.ask('where', undefined);
    const restarted = next('actor.restarted', 'a');
    expect(await system.fault('a')).toBe(true);
    await restarted;
    expect(await a.ask('where', undefined)).not.toBe(first);
    expect(await a.ask('addVia', { peer: 'left', n: 1 })).toBe(1);
    expect(await a.ask('addVia', { peer: 'right', n: 1 })).toBe(201);
  });
});
