import fc from 'fast-check';
import { backoffDelay, backoffOptions } from '../../src/runtime/backoff';
import { VirtualClock } from '../../src/runtime/clock';
import { Supervisor } from '../../src/runtime/supervisor';
import { Harness, isType } from './fixtures/children';

const opts = { minMs: 100, maxMs: 1000, randomFactor: 0.5, resetAfterMs: 10_000 };

describe('backoffDelay', () => {
  it('doubles from minMs and is capped at maxMs (no jitter)', () => {
    expect([0, 1, 2, 3, 4, 5, 60, 5000].map((n) => backoffDelay(n, opts, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000, 1000, 1000]);
  });

  it('jitter only shortens: the delay stays within [base * (1 - randomFactor), base]', () => {
    fc.assert(fc.property(fc.nat(80), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (n, r) => {
      const base = Math.min(opts.maxMs, opts.minMs * 2 ** n);
      const d = backoffDelay(n, opts, () => r);
      // >= at the bottom: the float product can round down to the bound itself.
      return d >= base * (1 - opts.randomFactor) && d <= base;
    }));
  });

  it('minMs 0 means no backoff', () => {
    expect(backoffDelay(7, { ...opts, minMs: 0 }, () => 0.9)).toBe(0);
  });

  it('rejects bad options with a VALIDATION error naming the field', () => {
    expect(() => backoffOptions({ minMs: -1 })).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'backoff.minMs' }));
    expect(() => backoffOptions({ minMs: 500, maxMs: 100 })).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'backoff.maxMs' }));
    expect(() => backoffOptions({ randomFactor: 1.5 })).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'backoff.randomFactor' }));
  });
});

describe('Supervisor restart backoff', () => {
  function setup() {
    const h = new Harness();
    const clock = new VirtualClock();
    const sup = new Supervisor([h.spec('a'), h.spec('b')], {
      clock, onEvent: h.onEvent, random: () => 0,
      intensity: { maxRestarts: 100, periodMs: 1_000_000 },
      backoff: { minMs: 100, maxMs: 400, randomFactor: 0.2, resetAfterMs: 10_000 },
    });
    return { h, clock, sup };
  }

  /** Crashes `a`, returns the scheduled delay, then advances exactly that far and waits for the restart. */
  async function crashAndRestart(h: Harness, clock: VirtualClock): Promise<number> {
    const scheduled = h.next(isType('child.restart_scheduled', 'a'));
    h.child('a').crash();
    await scheduled;
    const e = h.events.filter(isType('child.restart_scheduled', 'a')).pop() as { delayMs: number };
    const restarted = h.next((x) => x.type === 'child.started' && x.id === 'a' && x.restart);
    await clock.advance(e.delayMs - 1);
    expect(h.child('a').id).toBe('a');
    expect(h.log.filter((l) => l === 'start:a').length).toBe(h.events.filter(isType('child.started', 'a')).length);
    await clock.advance(1);
    await restarted;
    return e.delayMs;
  }

  it('grows, caps, and resets after a quiet period', async () => {
    const { h, clock, sup } = setup();
    await sup.start();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) delays.push(await crashAndRestart(h, clock));
    expect(delays).toEqual([100, 200, 400, 400, 400]);
    await clock.advance(10_000);
    expect(await crashAndRestart(h, clock)).toBe(100);
    await sup.stop();
  });

  it('does not restart before the delay, stays responsive meanwhile, and stop cancels the pending restart', async () => {
    const { h, clock, sup } = setup();
    await sup.start();
    const scheduled = h.next(isType('child.restart_scheduled', 'a'));
    h.child('a').crash();
    await scheduled;
    await clock.advance(99);
    expect(sup.children()[0].running).toBe(false);
    // Another child fails meanwhile: handled on its own schedule.
    const bBack = h.next((e) => e.type === 'child.started' && e.id === 'b' && e.restart);
    h.child('b').crash();
    await clock.advance(100);
    await bBack;
    expect(sup.children().map((c) => c.running)).toEqual([true, true]);
    h.child('a').crash();
    await sup.stop();
    expect(clock.pendingTimers).toBe(0);
    expect(await sup.exited).toEqual({ normal: true });
  });
});
