import { config, map } from 'rxjs';
import { EventBus } from '../../src/runtime/event-bus';

type E = { type: 'a'; n: number } | { type: 'b'; s: string };

describe('EventBus', () => {
  const saved = config.onUnhandledError;
  let unhandled: unknown[];
  beforeEach(() => {
    unhandled = [];
    // RxJS reports a throwing subscriber here (else it re-throws asynchronously): it must stay empty.
    config.onUnhandledError = (err) => unhandled.push(err);
  });
  afterEach(() => { config.onUnhandledError = saved; });

  const flush = () => new Promise<void>((r) => setTimeout(r, 0));

  it('delivers events in order and narrows with on(type)', () => {
    const bus = new EventBus<E>();
    const all: string[] = [];
    const bs: string[] = [];
    bus.events$.subscribe((e) => all.push(e.type));
    bus.on('b').subscribe((e) => bs.push(e.s));
    bus.publish({ type: 'a', n: 1 });
    bus.publish({ type: 'b', s: 'x' });
    expect(all).toEqual(['a', 'b']);
    expect(bs).toEqual(['x']);
  });

  it('a subscriber that throws does not kill the bus, other subscribers or the process', async () => {
    const reported: unknown[] = [];
    const bus = new EventBus<E>({ onSubscriberError: (err) => reported.push(err) });
    const seen: number[] = [];
    bus.events$.subscribe(() => { throw new Error('bad subscriber'); });
    bus.on('a').pipe(map((e) => e.n)).subscribe((n) => { if (n === 1) throw new Error('bad piped'); });
    bus.events$.subscribe((e) => { if (e.type === 'a') seen.push(e.n); });
    bus.publish({ type: 'a', n: 1 });
    bus.publish({ type: 'a', n: 2 });
    await flush();
    expect(seen).toEqual([1, 2]);
    expect(reported.map((e) => (e as Error).message)).toEqual(['bad subscriber', 'bad piped', 'bad subscriber']);
    expect(unhandled).toEqual([]);
  });

  it('an error raised inside an operator is reported, not re-thrown', async () => {
    const reported: unknown[] = [];
    const bus = new EventBus<E>({ onSubscriberError: (err) => reported.push(err) });
    bus.events$.pipe(map(() => { throw new Error('in operator'); })).subscribe(() => undefined);
    bus.publish({ type: 'b', s: 'x' });
    await flush();
    expect(reported).toHaveLength(1);
    expect(unhandled).toEqual([]);
  });
});
