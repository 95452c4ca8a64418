import { VirtualClock } from '../../src/runtime/clock';
import { Debouncer } from '../../src/actors/triggers/debounce';

function setup(quietMs: number, maxWaitMs?: number) {
  const clock = new VirtualClock();
  const fires: Array<{ first: string; count: number; at: number }> = [];
  const d = new Debouncer({
    clock, quietMs, ...(maxWaitMs !== undefined ? { maxWaitMs } : {}),
    onSettled: (first, count) => fires.push({ first, count, at: clock.monotonic() }),
  });
  return { clock, fires, d };
}

describe('Debouncer', () => {
  test('a burst fires once, quietMs after its last event', async () => {
    const { clock, fires, d } = setup(500);
    for (let i = 0; i < 10; i++) {
      d.push(`f${i}`);
      await clock.advance(100);
    }
    // Last push at t=900; nothing yet at t=1000.
    expect(fires).toEqual([]);
    await clock.advance(400);
    expect(fires).toEqual([{ first: 'f0', count: 10, at: 1400 }]);
    await clock.advance(10_000);
    expect(fires).toHaveLength(1);
    expect(d.pending).toBe(false);
  });

  test('two bursts apart fire twice', async () => {
    const { clock, fires, d } = setup(500);
    d.push('a');
    await clock.advance(600);
    d.push('b');
    await clock.advance(600);
    expect(fires.map((f) => f.first)).toEqual(['a', 'b']);
  });

  test('an endless stream still fires at the cap', async () => {
    const { clock, fires, d } = setup(500, 2000);
    for (let i = 0; i < 50; i++) {
      d.push('log');
      await clock.advance(100);
    }
    // 5 s of events every 100 ms: the cap (2 s from each burst's start) fires at 2 s and 4 s, 20 events
    // each; the last 10 fire once the stream has been quiet for 500 ms (last push at 4.9 s).
    expect(fires).toEqual([{ first: 'log', count: 20, at: 2000 }, { first: 'log', count: 20, at: 4000 }]);
    await clock.advance(1000);
    expect(fires[2]).toEqual({ first: 'log', count: 10, at: 5400 });
  });

  test('cancel drops a waiting burst', async () => {
    const { clock, fires, d } = setup(500);
    d.push('a');
    d.cancel();
    await clock.advance(5000);
    expect(fires).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });
});
