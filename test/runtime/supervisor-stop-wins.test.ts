/**
 * Supervisor: a stop wins over a start in progress (the start's signal aborts; a start that ignores
 * it is abandoned after the child's shutdownMs and whatever it yields later is stopped). A stop
 * during a start is a stop, not a failure: no start_failed, no escalation, `exited` normal.
 */
import { ActorStoppedError } from '../../src/errors';
import { VirtualClock } from '../../src/runtime/clock';
import { deferred } from '../../src/runtime/incarnation';
import { Supervisor, type ChildSpec, type SupervisorOptions } from '../../src/runtime/supervisor';
import { Harness, TestChild, isType } from './fixtures/children';

function make(specs: (h: Harness) => ChildSpec[], o: Partial<SupervisorOptions> = {}) {
  const h = new Harness();
  const clock = new VirtualClock();
  const sup = new Supervisor(specs(h), { clock, onEvent: h.onEvent, ...o });
  return { h, clock, sup };
}

/** A child whose start never ends by itself; it rejects once its signal aborts (as actors do). */
function stuck(h: Harness, id: string, began: () => void, o: Partial<ChildSpec> = {}): ChildSpec {
  return {
    id, ...o,
    start: (signal) => new Promise((_, reject) => {
      h.log.push(`starting:${id}`);
      began();
      signal.addEventListener('abort', () => { h.log.push(`aborted:${id}`); reject(signal.reason); }, { once: true });
    }),
  };
}

describe('Supervisor: a stop wins over a start', () => {
  it('stop() during start(): the start is aborted, started children stop in reverse, exited is normal', async () => {
    const began = deferred<void>();
    const { h, sup } = make((h) => [h.spec('a'), h.spec('b'), stuck(h, 'c', began.resolve), h.spec('d')]);
    const started = sup.start();
    started.catch(() => undefined);
    await began.promise;
    await sup.stop();
    await expect(started).rejects.toBeInstanceOf(ActorStoppedError);
    expect(h.log).toEqual(['start:a', 'start:b', 'starting:c', 'aborted:c', 'stop:b', 'stop:a']);
    expect(await sup.exited).toEqual({ normal: true });
    expect(h.events.filter((e) => e.type === 'child.start_failed' || e.type === 'supervisor.escalated')).toEqual([]);
  });

  it('stop() during addChild(): the child ends as a shutdown, not a failed start', async () => {
    const began = deferred<void>();
    const { h, sup } = make((h) => [h.spec('a')]);
    await sup.start();
    const added = sup.addChild(stuck(h, 'x', began.resolve));
    added.catch(() => undefined);
    await began.promise;
    await sup.stop();
    await expect(added).rejects.toBeInstanceOf(ActorStoppedError);
    expect(h.log).toEqual(['start:a', 'starting:x', 'aborted:x', 'stop:a']);
    expect(h.events.filter(isType('child.terminated'))).toEqual([
      { type: 'child.terminated', id: 'x', why: 'shutdown' },
      { type: 'child.terminated', id: 'a', why: 'shutdown' },
    ]);
    expect(h.events.filter(isType('child.start_failed'))).toEqual([]);
  });

  it('stop() during a restart round: no escalation, no later start', async () => {
    const began = deferred<void>();
    let attempts = 0;
    const { h, sup } = make((h) => {
      const first = h.spec('b');
      return [h.spec('a'), {
        id: 'b',
        start: (signal) => (++attempts === 1 ? first.start(signal) : stuck(h, 'b', began.resolve).start(signal)),
      }];
    }, { intensity: { maxRestarts: 1, periodMs: 60_000 } });
    await sup.start();
    h.child('b').crash();
    await began.promise;
    await sup.stop();
    expect(h.log).toEqual(['start:a', 'start:b', 'starting:b', 'aborted:b', 'stop:a']);
    expect(attempts).toBe(2);
    expect(await sup.exited).toEqual({ normal: true });
    expect(h.events.filter((e) => e.type === 'child.start_failed' || e.type === 'supervisor.escalated')).toEqual([]);
  });

  it('a start that ignores the abort is abandoned after shutdownMs; the child it yields later is stopped', async () => {
    const gate = deferred<void>();
    const entered = deferred<void>();
    const { h, clock, sup } = make((h) => [h.spec('a'), {
      id: 'slow', shutdownMs: 1000,
      start: async () => {
        entered.resolve();
        await gate.promise;
        h.log.push('start:slow');
        return new TestChild('slow', h.log, false);
      },
    }]);
    const started = sup.start();
    started.catch(() => undefined);
    await entered.promise;
    let stopped = false;
    const stopping = sup.stop().then(() => { stopped = true; });
    await clock.advance(999);
    expect(stopped).toBe(false);
    await clock.advance(1);
    await stopping;
    await expect(started).rejects.toBeInstanceOf(ActorStoppedError);
    expect(h.log).toEqual(['start:a', 'stop:a']);
    gate.resolve();
    await new Promise((r) => setImmediate(r));
    expect(h.log).toEqual(['start:a', 'stop:a', 'start:slow', 'stop:slow']);
  });
});
