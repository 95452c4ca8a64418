/**
 * File-system triggers on the REAL @parcel/watcher, in a temp directory. Fires are awaited through
 * the onFire callback with a bounded deadline. Where a test must show that something does NOT fire,
 * it waits a short real time after the debounce window: no event could be observed otherwise.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SystemClock } from '../../src/runtime/clock';
import { TriggerHub } from '../../src/actors/triggers/hub';

const DEBOUNCE_MS = 500;
/** Long enough after the debounce window for a stray fire to have shown up. */
const QUIET_MS = DEBOUNCE_MS + 1200;

interface Fire { jobId: string; reason: string }

class Fires {
  readonly all: Fire[] = [];
  #waiters: Array<() => void> = [];
  push(f: Fire): void {
    this.all.push(f);
    for (const w of this.#waiters.splice(0)) w();
  }
  /** Resolves when at least `n` fires have been seen; rejects after `ms`. */
  async atLeast(n: number, ms = 15_000): Promise<Fire[]> {
    const deadline = Date.now() + ms;
    while (this.all.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${n} fire(s) within ${ms} ms, saw ${this.all.length}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
    return this.all;
  }
}

let dir: string;
let hub: TriggerHub;
let fires: Fires;

beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'rae-triggers-')));
  fires = new Fires();
  hub = new TriggerHub({ clock: new SystemClock(), onFire: (jobId, reason) => fires.push({ jobId, reason }) });
});

afterEach(async () => {
  await hub.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const quiet = (): Promise<void> => new Promise((r) => setTimeout(r, QUIET_MS));

describe('watch triggers (real @parcel/watcher)', () => {
  test('a write in a watched directory fires once; a burst of 10 writes fires once', async () => {
    await hub.set('job1', [{ type: 'watch', paths: [dir], debounceMs: DEBOUNCE_MS }]);
    expect(hub.counts()).toEqual({ watches: 1, conditions: 0 });
    fs.writeFileSync(path.join(dir, 'one.txt'), 'x');
    const [first] = await fires.atLeast(1);
    expect(first).toMatchObject({ jobId: 'job1' });
    expect(first!.reason).toContain('one.txt');

    for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(dir, 'burst.txt'), `line ${i}\n`, { flag: 'a' });
    await fires.atLeast(2);
    await quiet();
    expect(fires.all).toHaveLength(2);
    expect(fires.all[1]!.reason).toContain('burst.txt');
  });

  test('a file path fires only for that file', async () => {
    const target = path.join(dir, 'a.txt');
    fs.writeFileSync(target, 'v1');
    await hub.set('job1', [{ type: 'watch', paths: [target], debounceMs: DEBOUNCE_MS }]);
    fs.writeFileSync(path.join(dir, 'b.txt'), 'other');
    await quiet();
    expect(fires.all).toEqual([]);
    fs.writeFileSync(path.join(dir, 'b.txt'), 'other again');
    fs.writeFileSync(target, 'v2');
    await fires.atLeast(1);
    // Had b.txt matched, it would be the burst's first event, and the reason would count 2+ events.
    expect(fires.all[0]!.reason).toBe(`watch: ${target} changed`);
  });

  test('a glob fires for matching files only', async () => {
    await hub.set('csv', [{ type: 'watch', paths: [path.join(dir, '*.csv')], debounceMs: DEBOUNCE_MS }]);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'no');
    await quiet();
    expect(fires.all).toEqual([]);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'still no');
    fs.writeFileSync(path.join(dir, 'data.csv'), 'a,b\n');
    await fires.atLeast(1);
    // One write can reach inotify as create + modify, coalesced or not: the count is not the point.
    expect(fires.all[0]!.reason).toMatch(new RegExp(`^watch: ${escapeRe(path.join(dir, 'data.csv'))} changed( \\(\\d+ events\\))?$`));
  });

  test('a recursive glob fires for a file made in a new subdirectory', async () => {
    await hub.set('csv', [{ type: 'watch', paths: [path.join(dir, '**', '*.csv')], debounceMs: DEBOUNCE_MS }]);
    const sub = path.join(dir, 'in', 'box');
    fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(path.join(sub, 'skip.txt'), 'no');
    fs.writeFileSync(path.join(sub, 'new.csv'), 'a,b\n');
    await fires.atLeast(1);
    expect(fires.all[0]!.reason).toContain(path.join(sub, 'new.csv'));
  });

  test('a path that does not exist yet fires when it is created', async () => {
    const later = path.join(dir, 'later', 'report.json');
    await hub.set('job1', [{ type: 'watch', paths: [later], debounceMs: DEBOUNCE_MS }]);
    fs.writeFileSync(path.join(dir, 'unrelated.json'), '{}');
    fs.mkdirSync(path.dirname(later));
    fs.writeFileSync(later, '{}');
    await fires.atLeast(1);
    expect(fires.all[0]!.reason).toContain(later);
  });

  test('remove(jobId) stops its fires; other jobs keep theirs', async () => {
    const sub = path.join(dir, 'sub');
    fs.mkdirSync(sub);
    await hub.set('gone', [{ type: 'watch', paths: [dir], debounceMs: DEBOUNCE_MS }]);
    await hub.set('kept', [{ type: 'watch', paths: [sub], debounceMs: DEBOUNCE_MS }]);
    await hub.remove('gone');
    expect(hub.counts()).toEqual({ watches: 1, conditions: 0 });
    fs.writeFileSync(path.join(sub, 'x'), '1');
    await fires.atLeast(1);
    await quiet();
    expect(fires.all.map((f) => f.jobId)).toEqual(['kept']);
  });

  test('set() replaces a job\'s watches', async () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    await hub.set('j', [{ type: 'watch', paths: [a], debounceMs: DEBOUNCE_MS }]);
    await hub.set('j', [{ type: 'watch', paths: [b], debounceMs: DEBOUNCE_MS }]);
    fs.writeFileSync(path.join(a, 'x'), '1');
    fs.writeFileSync(path.join(b, 'y'), '1');
    await fires.atLeast(1);
    await quiet();
    expect(fires.all).toHaveLength(1);
    expect(fires.all[0]!.reason).toContain(path.join(b, 'y'));
  });

  test('a path with no existing parent below / is refused with VALIDATION/watch', async () => {
    await expect(hub.set('j', [{ type: 'watch', paths: ['/rae-no-such-dir-9f3a/x.txt'] }]))
      .rejects.toMatchObject({ code: 'VALIDATION', field: 'watch' });
    expect(hub.counts()).toEqual({ watches: 0, conditions: 0 });
  });

  test('stop() unsubscribes everything: no fires afterwards (and jest exits without open handles)', async () => {
    await hub.set('j', [{ type: 'watch', paths: [dir, path.join(dir, '*.log')], debounceMs: DEBOUNCE_MS }]);
    expect(hub.counts()).toEqual({ watches: 2, conditions: 0 });
    await hub.stop();
    expect(hub.counts()).toEqual({ watches: 0, conditions: 0 });
    fs.writeFileSync(path.join(dir, 'after.log'), '1');
    await quiet();
    expect(fires.all).toEqual([]);
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
