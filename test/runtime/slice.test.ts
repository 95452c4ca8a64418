/**
 * Time slices of the event loop (src/runtime/slice.ts) and what they do to actors: long work
 * yields between units so other macrotasks (an HTTP request, another actor's ask) are served
 * in between, and yielding changes no order and no mailbox rule. Interleavings are made
 * deterministic with a budget of 0 (every check after the first of a slice is due), never by
 * timing.
 */
import { VirtualClock } from '../../src/runtime/clock';
import { ActorSystem } from '../../src/runtime/system';
import { DEFAULT_SLICE_BUDGET_MS, nextSlice, runSliced, setSliceBudget, sliceDue } from '../../src/runtime/slice';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const immediate = (): Promise<void> => new Promise((r) => setImmediate(r));

afterEach(() => {
  setSliceBudget(DEFAULT_SLICE_BUDGET_MS);
});

describe('sliceDue / nextSlice', () => {
  it('the first check of a slice is never due; with a budget of 0 the next one is, and each resumed slice allows one unit again', async () => {
    setSliceBudget(0);
    await nextSlice();
    expect(sliceDue()).toBe(false);
    expect(sliceDue()).toBe(true);
    expect(sliceDue()).toBe(true);
    await nextSlice();
    expect(sliceDue()).toBe(false);
    expect(sliceDue()).toBe(true);
  });

  it('a large budget is not due within a short synchronous stretch', async () => {
    setSliceBudget(60_000);
    await nextSlice();
    for (let i = 0; i < 1000; i++) expect(sliceDue()).toBe(false);
  });

  it('refuses a negative or non-finite budget', () => {
    expect(() => setSliceBudget(-1)).toThrow(RangeError);
    expect(() => setSliceBudget(Number.NaN)).toThrow(RangeError);
    expect(() => setSliceBudget(Infinity)).toThrow(RangeError);
  });
});

describe('runSliced', () => {
  it('runs synchronously and returns undefined while the slice lasts', async () => {
    setSliceBudget(60_000);
    await nextSlice();
    const seen: number[] = [];
    expect(runSliced([1, 2, 3], (x) => seen.push(x))).toBeUndefined();
    expect(seen).toEqual([1, 2, 3]);
  });

  it('past the budget: every item in order, other macrotasks served in between, hooks around each yield', async () => {
    setSliceBudget(0);
    await nextSlice();
    const log: string[] = [];
    // Another macrotask source (as an incoming request would be), re-arming itself.
    let ticking = true;
    const tick = (): void => {
      if (!ticking) return;
      log.push('tick');
      setImmediate(tick);
    };
    setImmediate(tick);
    const items = Array.from({ length: 50 }, (_, i) => i);
    const done = runSliced(items, (x) => log.push(`item ${x}`), {
      beforeYield: () => log.push('before'),
      afterYield: () => log.push('after'),
    });
    expect(done).toBeInstanceOf(Promise);
    await done;
    ticking = false;
    const order = log.filter((l) => l.startsWith('item')).map((l) => Number(l.slice(5)));
    expect(order).toEqual(items);
    // Other work ran between items: the first tick before the last item.
    expect(log.indexOf('tick')).toBeLessThan(log.indexOf('item 49'));
    // Each yield is bracketed: before … after, and an item follows every `after`.
    for (let i = 0; i < log.length; i++) {
      if (log[i] === 'after') expect(log[i + 1]).toMatch(/^item /);
    }
    expect(log.filter((l) => l === 'before')).toHaveLength(log.filter((l) => l === 'after').length);
  });

  it('pulls an iterator lazily: a generator sees what the previous items did', async () => {
    setSliceBudget(0);
    await nextSlice();
    const queue = [1];
    function* drain(): Generator<number> {
      while (queue.length > 0) yield queue.shift()!;
    }
    const seen: number[] = [];
    await runSliced(drain(), (x) => {
      seen.push(x);
      if (x < 5) queue.push(x + 1);
    });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('a throw after a yield rejects the promise and stops there; before any yield it throws', async () => {
    setSliceBudget(0);
    await nextSlice();
    const seen: number[] = [];
    const p = runSliced([1, 2, 3, 4], (x) => {
      if (x === 3) throw new Error('boom at 3');
      seen.push(x);
    });
    await expect(p).rejects.toThrow('boom at 3');
    expect(seen).toEqual([1, 2]);
    await nextSlice();
    expect(() => runSliced([1], () => {
      throw new Error('at once');
    })).toThrow('at once');
  });
});

describe('actors under time slices', () => {
  let system: ActorSystem;
  const setup = (): ActorSystem => {
    const clock = new VirtualClock();
    system = new ActorSystem({ clock, logger: quiet });
    clock.addSettler(() => system.quiescent());
    return system;
  };
  afterEach(async () => {
    await system.stop();
  });

  it('an ask to another actor is answered between the slices of a long handler, which then finishes in order', async () => {
    setup();
    setSliceBudget(0);
    const done: number[] = [];
    const worker = system.spawn({
      name: 'worker',
      factory: () => ({
        burst: (p: { n: number }) => runSliced(Array.from({ length: p.n }, (_, i) => i), (i) => void done.push(i)),
        progress: () => done.length,
      }),
    });
    const monitor = system.spawn({ name: 'monitor', factory: () => ({ health: () => ({ seen: done.length }) }) });
    await nextSlice();
    const burst = worker.ask('burst', { n: 500 });
    // Asked from a macrotask of its own, as a request arriving on a socket would be.
    await immediate();
    const answer = await monitor.ask('health', undefined);
    expect(answer.seen).toBeLessThan(500);
    await burst;
    expect(done).toEqual(Array.from({ length: 500 }, (_, i) => i));
    // The worker's own mailbox stayed held: a message sent during the burst ran after it.
    expect(await worker.ask('progress', undefined)).toBe(500);
  });

  it('yielding before each message keeps FIFO order of tells and asks, and the replies', async () => {
    setup();
    setSliceBudget(0);
    const handled: string[] = [];
    const a = system.spawn({
      name: 'a',
      factory: () => ({
        note: (x: string) => void handled.push(x),
        echo: (x: string) => {
          handled.push(x);
          return `re:${x}`;
        },
      }),
    });
    const asks: Array<Promise<string>> = [];
    const expected: string[] = [];
    for (let i = 0; i < 200; i++) {
      if (i % 3 === 0) {
        asks.push(a.ask('echo', `m${i}`));
      } else {
        a.tell('note', `m${i}`);
      }
      expected.push(`m${i}`);
    }
    const replies = await Promise.all(asks);
    await system.quiescent();
    expect(handled).toEqual(expected);
    expect(replies).toEqual(expected.filter((_, i) => i % 3 === 0).map((x) => `re:${x}`));
    expect(a.stats()).toMatchObject({ processed: 200, failed: 0, queued: 0 });
  });

  it('a message waiting for its slice still counts against the mailbox bound', async () => {
    setup();
    setSliceBudget(0);
    const a = system.spawn({ name: 'a', mailboxSize: 3, factory: () => ({ echo: (x: string) => x }) });
    await nextSlice();
    sliceDue(); // this slice's one free unit is spent: every delivery below waits for its slice
    const answers = [a.ask('echo', '1'), a.ask('echo', '2'), a.ask('echo', '3')];
    await expect(a.ask('echo', '4')).rejects.toMatchObject({ code: 'MAILBOX_FULL' });
    expect(a.stats()).toMatchObject({ queued: 3, refused: 1 });
    expect(await Promise.all(answers)).toEqual(['1', '2', '3']);
    expect(a.stats()).toMatchObject({ queued: 0, processed: 3 });
  });
});
