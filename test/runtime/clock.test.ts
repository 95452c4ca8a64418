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

  // The time.int flake (issue 8): a run's result (real I/O) landed during advance's last settle
  // rounds; the engine asked persistence to commit it (30 s ask deadline on this clock); nothing
  // settled that work, so the next timers — sync capped waits — ran the clock past the deadline in
  // a millisecond: the commit, in fact written, "timed out" and was retried only at the next advance.
  it('does not run past the deadline of work that began outside any timer while it settled (busy check)', async () => {
    const clock = new VirtualClock(0);
    const order: string[] = [];
    let inFlight = false;
    let work: Promise<void> = Promise.resolve();
    // Quiet when nothing is in flight (as the System's `quiescent`); `busy` says so synchronously.
    clock.addSettler(() => work, () => inFlight);
    // Capped waits that start nothing (the queue's timer), up to 60 s.
    const wait = (): void => { if (clock.now() < 60_000) clock.setTimeout(wait, 1000); };
    clock.setTimeout(wait, 1000);
    clock.setTimeout(() => {
      // Starts a promise (the clock settles after it) whose end, a few immediates later — past the
      // settler's check, within the last settle rounds — begins work that takes real time.
      void (async () => {
        for (let i = 0; i < 7; i++) await new Promise<void>((r) => setImmediate(r));
        inFlight = true;
        const deadline = clock.setTimeout(() => order.push('deadline passed'), 30_000);
        work = new Promise<void>((r) => setTimeout(() => {
          clock.clearTimeout(deadline);
          inFlight = false;
          order.push('work answered');
          r();
        }, 30));
      })();
    }, 5000);
    await clock.advance(60_000);
    await work;
    expect(order).toEqual(['work answered']);
  });
});
