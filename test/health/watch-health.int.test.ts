/**
 * The triggers actor under faults, with the real scheduler: a watcher subscribe that hangs forever
 * blocks neither firing nor shutdown; a watcher error marks that job's watch dead in health, it is
 * retried with backoff and, re-subscribed, delivers what changed meanwhile (snapshot catch-up);
 * deleting a watched directory (the real watcher) is seen, retried and recovered.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createScheduler, type Scheduler } from '../../src/index';
import type { InternalOptions } from '../../src/scheduler';
import type { Subscribe } from '../../src/actors/triggers/watch';
import { parcelSubscribe } from '../../src/actors/triggers/watch';
import { VirtualClock } from '../../src/testing';
import type { Health } from '../../src/api';
import { RunCollector, useWatchDirs } from '../helpers/scheduler';
import { until } from '../helpers/until';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

describe('watch health', () => {
  const dirs = useWatchDirs();
  let s: Scheduler | null = null;

  it('a subscribe that never answers: the add is accepted, health names the dead watch, other jobs fire, shutdown completes', async () => {
    const clock = new VirtualClock(T0);
    let calls = 0;
    const hang: Subscribe = () => { calls++; return new Promise(() => undefined); };
    const opts: InternalOptions = { dataDir: dirs.dir(), clock, watchSubscribe: hang, watchSubscribeTimeoutMs: 300 };
    s = dirs.track(await createScheduler(opts));
    const runs = new RunCollector(s.events$);
    await s.addJob({ name: 'tick', schedule: 'every 1m', command: 'true' });
    await s.addJob({ name: 'nfs', schedule: 'never', command: 'true', triggers: [{ type: 'watch', paths: [dirs.watched()] }] });
    expect(calls).toBe(1);
    const h = await s.health();
    expect(h.healthy).toBe(false);
    expect(h.components.watches!.detail).toMatch(/1 dead watch .*nfs: the watcher's subscribe did not answer within 300 ms/);
    expect(h.components.watches!.healthy).toBe(false);

    // Firing goes on while the native call hangs.
    await clock.advance(60_000);
    expect((await runs.wait(1, 30_000))[0]!.jobId).toBe((await s.getJob('tick')).id);
    const t = Date.now();
    await s.shutdown({ graceMs: 0 });
    s = null;
    expect(Date.now() - t).toBeLessThan(25_000);
  }, 60_000);

  it('a watcher error marks the job\'s watch dead; it is retried with backoff and catches up on what changed meanwhile', async () => {
    const clock = new VirtualClock(T0);
    let fail: ((err: Error) => void) | null = null;
    let subscribes = 0;
    let refuse = false;
    const flaky: Subscribe = async (d, cb) => {
      subscribes++;
      if (refuse) throw new Error('ENOSPC: inotify watch limit reached');
      fail = (err) => void cb(err, []);
      return parcelSubscribe(d, cb);
    };
    const opts: InternalOptions = { dataDir: dirs.dir(), clock, watchSubscribe: flaky };
    s = dirs.track(await createScheduler(opts));
    const runs = new RunCollector(s.events$);
    await s.addJob({ name: 'ingest', schedule: 'never', command: 'true', triggers: [{ type: 'watch', paths: [dirs.watched()] }] });
    expect((await s.health()).components.watches).toMatchObject({ healthy: true });

    refuse = true;
    fail!(new Error('watcher backend failed'));
    const dead = await s.health();
    expect(dead.healthy).toBe(false);
    expect(dead.components.watches!.detail).toContain('ingest: watcher error: watcher backend failed');
    // While nothing watches, a file arrives.
    fs.writeFileSync(path.join(dirs.watched(), 'while-dead.csv'), 'x');
    // First retry after ~1 s fails too (still dead), the next (~2 s later) succeeds.
    await clock.advance(1300);
    // (The retry's path checks are real file-system calls: wait for them, in real time.)
    await until('the first retry', async () => subscribes, (n) => n >= 2);
    expect(subscribes).toBe(2);
    expect((await s.health()).components.watches!.healthy).toBe(false);
    refuse = false;
    await until('the watch alive again', () => s!.health(), (h) => h.components.watches?.healthy === true, 30_000,
      async () => { await clock.advance(500); await new Promise((r) => setTimeout(r, 20)); });
    // The change made while it was dead is delivered from the snapshot: the job runs for it.
    const [run] = await until('the caught-up fire', async () => runs.runs, (r) => r.length >= 1, 30_000,
      async () => { await clock.advance(600); await new Promise((r) => setTimeout(r, 20)); });
    expect(run!.trigger).toBe('event');
    const history = await s.history('ingest');
    expect(history.length).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('deleting the watched directory (real watcher) shows the watch dead, then it is re-subscribed and a re-created directory fires', async () => {
    const clock = new VirtualClock(T0);
    s = dirs.track(await createScheduler({ dataDir: dirs.dir(), clock }));
    const runs = new RunCollector(s.events$);
    const target = path.join(dirs.watched(), 'inbox');
    fs.mkdirSync(target);
    await s.addJob({ name: 'inbox', schedule: 'never', command: 'true', triggers: [{ type: 'watch', paths: [target] }] });
    fs.rmSync(target, { recursive: true });
    const dead = await until('the dead watch', () => s!.health(), (h: Health) => h.components.watches?.healthy === false);
    expect(dead.components.watches!.detail).toContain(`inbox: watched directory '${target}' was deleted`);
    // The retry (on the scheduler's clock) re-subscribes to the parent, filtered to the path.
    await until('the watch alive again', () => s!.health(), (h) => h.components.watches?.healthy === true, 30_000,
      async () => { await clock.advance(1000); await new Promise((r) => setTimeout(r, 20)); });
    const before = runs.runs.length;
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'a.txt'), 'x');
    await until('a fire for the re-created directory', async () => runs.runs.length, (n) => n > before, 30_000,
      async () => { await clock.advance(600); await new Promise((r) => setTimeout(r, 50)); });
  }, 60_000);
});
