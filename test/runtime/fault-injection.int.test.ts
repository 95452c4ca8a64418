/**
 * Fault injection reaches an actor wherever it runs (issue 8): the system's one CrashInjector
 * decides on the main side, the fault travels with the message (on the thread wire for a thread
 * actor) and hits where the handler runs. Both placements, real threads:
 * - throws armed N times span incarnations: each one crashes an incarnation, the next gets the next;
 * - a hang holds the handler (in a worker: the worker itself stuck) until the hang watchdog
 *   crashes the incarnation (a thread's worker is terminated: a new thread serves after);
 * - a delay runs the handler late, in place, without a restart.
 */
import { join } from 'node:path';
import { VirtualClock } from '../../src/runtime/clock';
import { ActorSystem } from '../../src/runtime/system';
import { actorModule, type Placement, type RuntimeEvent } from '../../src/runtime/types';

const counter = actorModule<typeof import('./fixtures/counter-actor')>(join(__dirname, 'fixtures', 'counter-actor.js')).logic('createCounter');

const outcome = (p: Promise<unknown>) => p.then(
  (value) => ({ value }),
  (e: Error & { code?: string }) => ({ code: e.code, message: e.message }),
);

describe.each<Placement>(['main', 'thread'])('injected faults, placement %s', (placement) => {
  let system: ActorSystem;
  let events: RuntimeEvent[];
  beforeEach(() => {
    system = new ActorSystem({ clock: new VirtualClock(), askTimeoutMs: Infinity, intensity: { maxRestarts: 10, periodMs: 60_000 } });
    events = [];
    system.events$.subscribe((e) => events.push(e));
  });
  afterEach(() => system.stop());
  const spawn = () => system.spawn({ name: 'a', logic: counter, placement, init: { start: 10 }, onUnexpectedError: 'crash', hangAfterMs: 400 });

  it('throws armed 3 times crash 3 incarnations in a row; the 4th message is served', async () => {
    const a = spawn();
    const first = await a.ask('where', undefined);
    expect(first === 0).toBe(placement === 'main');
    system.inject('a', 'add', 3);
    for (let i = 0; i < 3; i++) {
      expect(await outcome(a.ask('add', { n: 1 }))).toEqual({ code: 'ACTOR_DEAD', message: expect.stringContaining('injected crash (test): a.add') });
    }
    expect(await a.ask('add', { n: 1 })).toBe(11);
    expect(a.stats()).toMatchObject({ restarts: 3, alive: true });
    expect(events.filter((e) => e.type === 'actor.crashed')).toHaveLength(3);
    // A thread actor crashed with its worker: a new thread serves now.
    if (placement === 'thread') expect(await a.ask('where', undefined)).not.toBe(first);
  }, 30_000);

  it('a hang holds the message until the watchdog crashes the incarnation; the messages behind reach the next one', async () => {
    const a = spawn();
    const first = await a.ask('where', undefined);
    expect(await a.ask('add', { n: 5 })).toBe(15);
    system.inject('a', 'add', 1, 'hang');
    const t0 = Date.now();
    const stuck = a.ask('add', { n: 1 });
    const behind = a.ask('add', { n: 2 });
    expect(await outcome(stuck)).toEqual({ code: 'ACTOR_DEAD', message: expect.stringMatching(/hung: message 'add' did not finish within 400ms/) });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    // Rebuilt from init (10): the hung message never ran.
    expect(await behind).toBe(12);
    expect(events.filter((e) => e.type === 'actor.hung')).toEqual([expect.objectContaining({ actor: 'a', messageType: 'add', afterMs: 400 })]);
    expect(a.stats()).toMatchObject({ restarts: 1, alive: true });
    if (placement === 'thread') expect(await a.ask('where', undefined)).not.toBe(first);
  }, 30_000);

  it('a delay runs the handler late, in the same incarnation', async () => {
    const a = spawn();
    const first = await a.ask('where', undefined);
    system.inject('a', 'add', 1, { delayMs: 200 });
    const t0 = Date.now();
    expect(await a.ask('add', { n: 1 })).toBe(11);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(180);
    expect(await a.ask('add', { n: 1 })).toBe(12);
    expect(a.stats()).toMatchObject({ restarts: 0 });
    expect(await a.ask('where', undefined)).toBe(first);
  }, 30_000);
});
