/**
 * Let it crash (opt-in, `onUnexpectedError: 'crash'`): an unexpected handler error crashes the
 * actor, the supervisor restarts it with backoff on the (virtual) clock, `init` rebuilds its state,
 * and past the restart intensity every actor stops in reverse order. Both placements, real threads.
 */
import { join } from 'node:path';
import { VirtualClock, settle } from '../../src/runtime/clock';
import { ActorSystem } from '../../src/runtime/system';
import { actorModule, type Placement, type RuntimeEvent } from '../../src/runtime/types';

const counter = actorModule<typeof import('./fixtures/counter-actor')>(join(__dirname, 'fixtures', 'counter-actor.js')).logic('createCounter');

const outcome = (p: Promise<unknown>) => p.then(
  (value) => ({ value }),
  (e: Error & { code?: string }) => ({ code: e.code, cause: (e.cause as Error | undefined)?.name }),
);

function setup() {
  const clock = new VirtualClock();
  const system = new ActorSystem({
    clock,
    // No ask timers on the virtual clock: the only timers are the supervisor's backoff.
    askTimeoutMs: Infinity,
    intensity: { maxRestarts: 2, periodMs: 60_000 },
    backoff: { minMs: 100, maxMs: 1000, randomFactor: 0, resetAfterMs: 60_000 },
  });
  clock.addSettler(() => system.quiescent());
  const events: RuntimeEvent[] = [];
  system.events$.subscribe((e) => events.push(e));
  return { clock, system, events };
}

/** Waits (bounded) until the supervisor has armed its restart timer, and returns its delay. */
async function restartDelay(clock: VirtualClock): Promise<number> {
  for (let i = 0; i < 1000 && clock.nextTimerIn() === null; i++) await settle(1);
  const d = clock.nextTimerIn();
  if (d === null) throw new Error('no restart was scheduled');
  return d;
}

describe.each<Placement>(['main', 'thread'])('let it crash, placement %s', (placement) => {
  it('expected errors reject; an unexpected one crashes, restarts after backoff with fresh state; intensity exceeded stops all in reverse', async () => {
    const { clock, system, events } = setup();
    const stops: string[] = [];
    const first = system.spawn({ name: 'first', logic: counter, init: { start: 0, stops } });
    const crashy = system.spawn({ name: 'crashy', logic: counter, placement, init: { start: 0 }, onUnexpectedError: 'crash' });
    const last = system.spawn({ name: 'last', logic: counter, init: { start: 0, stops } });
    try {
      expect(await crashy.ask('add', { n: 5 })).toBe(5);
      // A SchedulerError is an expected failure: a rejected ask, state kept.
      expect(await outcome(crashy.ask('fail', { kind: 'expected' }))).toEqual({ code: 'NOT_FOUND', cause: undefined });
      expect(await crashy.ask('total', undefined)).toBe(5);

      for (const [round, delay] of [[1, 100], [2, 200]] as const) {
        expect(await outcome(crashy.ask('fail', { kind: 'unexpected' }))).toEqual({ code: 'ACTOR_DEAD', cause: 'TypeError' });
        expect(await restartDelay(clock)).toBe(delay);
        // Stashed during the backoff, served by the next incarnation.
        const during = crashy.ask('total', undefined);
        await clock.advance(delay - 1);
        expect(crashy.stats().alive).toBe(false);
        await clock.advance(1);
        expect(await during).toBe(0); // init rebuilt the state
        expect(crashy.stats()).toMatchObject({ restarts: round, alive: true });
        await crashy.ask('add', { n: 1 });
      }
      expect(events.filter((e) => e.type === 'actor.crashed').map((e) => 'actor' in e && e.actor)).toEqual(['crashy', 'crashy']);

      // Third crash within the period: more than 2 restarts -> escalate.
      expect(await outcome(crashy.ask('fail', { kind: 'unexpected' }))).toMatchObject({ code: 'ACTOR_DEAD' });
      for (let i = 0; i < 1000 && !events.some((e) => e.type === 'system.failed'); i++) await settle(1);
      expect(events.filter((e) => e.type === 'actor.failed').map((e) => 'actor' in e && e.actor)).toEqual(['last', 'crashy', 'first']);
      expect(stops).toEqual(['last', 'first']);
      expect(events.some((e) => e.type === 'system.failed')).toBe(true);
      expect(await outcome(first.ask('total', undefined))).toMatchObject({ code: 'ACTOR_STOPPED' });
      expect(await outcome(last.ask('total', undefined))).toMatchObject({ code: 'ACTOR_STOPPED' });
    } finally {
      await system.stop();
    }
  });

  it('an error from a dead peer is expected (ACTOR_DEAD is a SchedulerError): the asker does not crash', async () => {
    const { system } = setup();
    const peer = system.spawn({ name: 'peer', logic: counter, placement, init: { start: 0 } });
    const asker = system.spawn({ name: 'asker', logic: counter, placement, init: { start: 0 }, onUnexpectedError: 'crash', peers: { right: peer } });
    try {
      expect(await asker.ask('addVia', { peer: 'right', n: 1 })).toBe(1);
      const asking = outcome(asker.ask('hangVia', { peer: 'right' }));
      for (let i = 0; i < 20_000 && peer.stats().queued === 0; i++) await settle(1);
      expect(peer.stats().queued).toBe(1);
      expect(await system.fault('peer')).toBe(true);
      expect(await asking).toEqual({ code: 'ACTOR_DEAD', cause: expect.any(String) });
      expect(asker.stats()).toMatchObject({ restarts: 0, alive: true });
    } finally {
      await system.stop();
    }
  });
});
