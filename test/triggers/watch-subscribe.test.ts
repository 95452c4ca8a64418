import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VirtualClock } from '../../src/runtime/clock';
import { TriggerHub } from '../../src/actors/triggers/hub';
import type { Subscribe } from '../../src/actors/triggers/watch';

// Subscription failures cannot be provoked reliably with the real watcher (tests may run as root),
// so this file injects a subscriber; the real one is exercised in watch.int.test.ts.
describe('watch subscription failures', () => {
  let dir: string;
  beforeEach(() => { dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'rae-triggers-'))); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a failing path is named in a VALIDATION/watch error; paths already subscribed are undone', async () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    const live = new Set<string>();
    const subscribe: Subscribe = async (d) => {
      if (d === b) throw new Error('inotify watch limit reached');
      live.add(d);
      return { unsubscribe: async () => { live.delete(d); } };
    };
    const hub = new TriggerHub({ clock: new VirtualClock(), onFire: () => undefined, subscribe });
    await hub.set('j', [{ type: 'watch', paths: [dir] }]);
    expect([...live]).toEqual([dir]);

    const err = await hub.set('j', [{ type: 'watch', paths: [a, b] }]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VALIDATION', field: 'watch' });
    expect((err as Error).message).toContain(b);
    // The failed set changed nothing: the old watch stays, the half-made new one is gone.
    expect([...live]).toEqual([dir]);
    expect(hub.counts()).toEqual({ watches: 1, conditions: 0 });
    await hub.stop();
    expect(live.size).toBe(0);
  });

  test('events outside the filter are ignored and a burst is debounced on the clock', async () => {
    let emit: ((paths: string[]) => void) | undefined;
    const subscribe: Subscribe = async (_d, cb) => {
      emit = (paths) => void cb(null, paths.map((p) => ({ path: p, type: 'update' })));
      return { unsubscribe: async () => undefined };
    };
    const clock = new VirtualClock();
    const fires: string[] = [];
    const hub = new TriggerHub({ clock, onFire: (_j, r) => fires.push(r), subscribe });
    const file = path.join(dir, 'a.txt');
    fs.writeFileSync(file, '');
    await hub.set('j', [{ type: 'watch', paths: [file] }]);
    emit!([path.join(dir, 'b.txt'), path.join(dir, 'a.txt.swp')]);
    await clock.advance(10_000);
    expect(fires).toEqual([]);
    for (let i = 0; i < 5; i++) {
      emit!([file]);
      await clock.advance(100);
    }
    await clock.advance(399);
    expect(fires).toEqual([]);
    await clock.advance(1); // 500 ms (the default) after the last event
    expect(fires).toEqual([`watch: ${file} changed (5 events)`]);
    await hub.stop();
  });
});
