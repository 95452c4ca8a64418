/** HangWatch: one timer per mailbox reports the messages past their deadline (real time, short deadlines). */
import { HangWatch, type Watched } from '../../src/runtime/hang-watch';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (f: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out');
    await wait(5);
  }
};

describe('HangWatch', () => {
  let watch: HangWatch<string>;
  let late: Array<{ w: Watched<string>; at: number }>;
  let answer: (w: Watched<string>) => boolean;
  beforeEach(() => {
    late = [];
    answer = () => true;
    watch = new HangWatch<string>((w) => { late.push({ w, at: performance.now() }); return answer(w); });
  });
  afterEach(() => watch.dispose());

  it('a message that ends in time is never reported; one past its deadline is reported once, not before it', async () => {
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) watch.end(watch.start('quick', 50, `q${i}`));
    const slow = watch.start('slow', 80, 'slow');
    await until(() => late.length > 0);
    await wait(150);
    expect(late.map((l) => l.w.subject)).toEqual(['slow']);
    expect(late[0]!.at - t0).toBeGreaterThanOrEqual(80);
    watch.end(slow);
  });

  it('messages with different deadlines are reported in deadline order, whatever their start order', async () => {
    const a = watch.start('long', 300, 'a');
    const b = watch.start('short', 60, 'b');
    await until(() => late.length === 2);
    expect(late.map((l) => l.w.subject)).toEqual(['b', 'a']);
    watch.end(a);
    watch.end(b);
  });

  it('a message the owner says is not hung yet (false) gets its deadline again', async () => {
    let asked = 0;
    answer = () => ++asked >= 2;
    const t0 = performance.now();
    const w = watch.start('waits', 60, 'w');
    await until(() => late.length === 2);
    expect(late[1]!.at - t0).toBeGreaterThanOrEqual(120);
    await wait(150);
    expect(late).toHaveLength(2);
    watch.end(w);
  });

  it('many in flight that never all end at once: only the live ones are reported', async () => {
    const kept = watch.start('kept', 100, 'kept');
    for (let i = 0; i < 500; i++) watch.end(watch.start('churn', 100, `c${i}`));
    await until(() => late.length === 1);
    await wait(50);
    expect(late.map((l) => l.w.subject)).toEqual(['kept']);
    watch.end(kept);
  });
});
