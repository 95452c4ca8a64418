/**
 * Two runtime rules, both placements, real threads:
 * - the hang watchdog (`hangAfterMs`, real time): a message still in flight past its deadline — a
 *   promise that never settles on the main thread, a busy loop in a worker — crashes the
 *   incarnation as hung; its asker gets ACTOR_DEAD at once, the supervisor restarts the actor from
 *   its init, the messages queued behind go to the new incarnation;
 * - `unbounded` message types (owed work) pass a full mailbox and a full restart stash, while the
 *   bound still refuses everything else.
 */
import { join } from 'node:path';
import { VirtualClock } from '../../src/runtime/clock';
import { ActorSystem } from '../../src/runtime/system';
import { actorModule, type Placement, type RuntimeEvent } from '../../src/runtime/types';
import { Probe, probeActor } from './fixtures/actors';

const counter = actorModule<typeof import('./fixtures/counter-actor')>(join(__dirname, 'fixtures', 'counter-actor.js')).logic('createCounter');

const outcome = (p: Promise<unknown>) => p.then(
  (value) => ({ value }),
  (e: Error & { code?: string }) => ({ code: e.code, message: e.message }),
);

function setup() {
  const clock = new VirtualClock();
  const errors: unknown[] = [];
  const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (o: object) => void errors.push(o) };
  const system = new ActorSystem({ clock, logger, askTimeoutMs: Infinity, intensity: { maxRestarts: 5, periodMs: 60_000 } });
  const events: RuntimeEvent[] = [];
  system.events$.subscribe((e) => events.push(e));
  return { clock, system, events, errors };
}

describe.each<Placement>(['main', 'thread'])('hang watchdog, placement %s', (placement) => {
  it('a message past its deadline crashes the incarnation: asker ACTOR_DEAD, restarted fresh, queued messages served', async () => {
    const { system, events, errors } = setup();
    // The exempt type shows the deadline is per message type.
    const a = system.spawn({
      name: 'a', logic: counter, placement, init: { start: 10 },
      hangAfterMs: (type) => (type === 'total' ? Infinity : 300),
    });
    try {
      expect(await a.ask('add', { n: 5 })).toBe(15);
      // On the main thread a promise that never settles; in a worker a busy loop that never yields.
      const stuck = a.ask(placement === 'main' ? 'hang' : 'spin', undefined);
      const behind = a.ask('add', { n: 1 });
      const t0 = Date.now();
      expect(await outcome(stuck)).toEqual({ code: 'ACTOR_DEAD', message: expect.stringMatching(/hung: message '(hang|spin)' did not finish within 300ms/) });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      // Served by the next incarnation, rebuilt from init (10), not from the hung one's 15.
      expect(await behind).toBe(11);
      expect(a.stats()).toMatchObject({ restarts: 1, alive: true });
      expect(events.filter((e) => e.type === 'actor.hung')).toEqual([
        expect.objectContaining({ actor: 'a', messageType: placement === 'main' ? 'hang' : 'spin', afterMs: 300 }),
      ]);
      expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['actor.hung', 'actor.crashed', 'actor.restarted']));
      expect(errors).toEqual([expect.objectContaining({ actor: 'a', afterMs: 300 })]);
      expect(await a.ask('total', undefined)).toBe(11);
    } finally {
      await system.stop();
    }
  }, 30_000);
});

describe('unbounded message types (owed work)', () => {
  it('pass a full mailbox and a full restart stash; other types are refused; all are delivered in order', async () => {
    const { system, events } = setup();
    const probe = new Probe();
    const a = system.spawn({ name: 'a', factory: probeActor(probe), init: { tag: 'A' }, mailboxSize: 2, stashSize: 0, unbounded: ['echo'] });
    try {
      const held = a.ask('wait', 'g');
      const queued = a.ask('count', undefined);
      // Full (2 of 2): `count` is refused, `echo` is owed and passes, and counts towards the bound.
      expect(await outcome(a.ask('count', undefined))).toEqual({ code: 'MAILBOX_FULL', message: expect.any(String) });
      const owed = [a.ask('echo', 'o1'), a.ask('echo', 'o2')];
      a.tell('echo', 'o3');
      expect(a.stats()).toMatchObject({ queued: 5, refused: 1 });
      probe.gate('g').resolve();
      expect(await held).toBe('g');
      expect(await queued).toBe(1);
      expect(await Promise.all(owed)).toEqual(['A:o1', 'A:o2']);
      await system.quiescent();
      expect(probe.handled).toEqual(['wait:g', 'o1', 'o2', 'o3']);

      // Restarting with a stash of 0: only owed messages are kept for the next incarnation.
      expect(await system.fault('a')).toBe(true);
      expect(await outcome(a.ask('count', undefined))).toEqual({ code: 'MAILBOX_FULL', message: expect.stringContaining('restart stash full') });
      expect(await a.ask('echo', 'after')).toBe('A:after');
      expect(events.filter((e) => e.type === 'mailbox.refused').map((e) => (e as { reason: string }).reason)).toEqual(['full', 'stash_full']);
    } finally {
      await system.stop();
    }
  });
});
