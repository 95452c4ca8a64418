/** VirtualClock: timers fire in order; async work a timer starts settles before time moves on. */
import { VirtualClock } from '../../src/runtime/clock';

describe('VirtualClock.advance', () => {
  it('goes through a long chain of capped, self re-arming waits (59 days in 30 s steps) and fires on time', async () => {
    const clock = new VirtualClock(0);
    const due = 59 * 86_400_000;
    let wakes = 0;
    let firedAt: number | null = null;
    const wait = (): void => {
      wakes++;
      const left = due - clock.now();
      if (left <= 0) firedAt = clock.now();
      else clock.setTimeout(wait, Math.min(30_000, left));
    };
    clock.setTimeout(wait, 30_000);
    await clock.advance(due + 1000);
    expect({ wakes, firedAt }).toEqual({ wakes: due / 30_000, firedAt: due });
  });

  it('lets the async work a timer started finish before the next timer fires', async () => {
    const clock = new VirtualClock(0);
    const order: string[] = [];
    clock.setTimeout(() => {
      order.push('a');
      void (async () => {
        for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
        order.push('a: async work done');
      })();
    }, 1000);
    clock.setTimeout(() => order.push('b'), 1001);
    await clock.advance(5000);
    expect(order).toEqual(['a', 'a: async work done', 'b']);
  });

  it('lets a settler finish after a timer that started async work', async () => {
    const clock = new VirtualClock(0);
    const order: string[] = [];
    let busy: Promise<void> | null = null;
    clock.addSettler(async () => {
      await busy;
    });
    clock.setTimeout(() => {
      busy = new Promise<void>((r) => setTimeout(() => {
        order.push('work');
        r();
      }, 20));
    }, 1000);
    clock.setTimeout(() => order.push('next'), 1001);
    await clock.advance(2000);
    expect(order).toEqual(['work', 'next']);
  });
});
