/**
 * Let it crash, for the monitor and the trigger hub (issue 8): a plain Error thrown in one of their
 * handlers (a bug, `onUnexpectedError: 'crash'`) crashes the actor; health shows it while it lasts
 * and clears after; it comes back whole. The monitor: `stats` and `metrics` still answer, `stats`
 * stays right (run counts from the store's rollup, restarts from the supervisor, uptime from the
 * scheduler's start) while the Prometheus counters start again (a counter reset). The trigger hub:
 * every watch is re-subscribed, the change made while no hub watched fires after the restart (from
 * the watch's snapshot), the dead hub fires nothing more, the usage sampler runs again.
 * Real scheduler, real LMDB, real @parcel/watcher, virtual clock.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createScheduler, type Scheduler } from '../../src/index';
import { testHooksOf, type InternalOptions } from '../../src/scheduler';
import { parcelSubscribe, type Subscribe } from '../../src/actors/triggers/watch';
import { VirtualClock } from '../../src/testing';
import type { Health } from '../../src/api';
import { RunCollector, useWatchDirs } from '../helpers/scheduler';
import { until } from '../helpers/until';
import { parseExposition, valueOf } from '../monitor/prometheus';

const metricValue = (text: string, name: string, labels: Record<string, string> = {}): number => valueOf(parseExposition(text), name, labels);

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
/** Heartbeats far apart: a failed one stays visible in health until the next one (2 s later). */
const HEALTH = { heartbeatEveryMs: 2000, heartbeatTimeoutMs: 10_000 };

describe('the monitor and the trigger hub crash and come back whole', () => {
  const dirs = useWatchDirs();
  let s: Scheduler | null = null;

  it('monitor: health shows the crash and clears; stats stay right, metrics answer (counters reset)', async () => {
    const clock = new VirtualClock(T0);
    s = dirs.track(await createScheduler({ dataDir: dirs.dir(), clock, health: HEALTH }));
    const sched = s;
    const hooks = testHooksOf(sched);
    const runs = new RunCollector(sched.events$);
    await sched.addJob({ name: 'work', schedule: 'never', command: 'true' });
    for (let i = 0; i < 3; i++) await sched.runNow('work');
    await runs.wait(3);
    await clock.advance(5000);
    const before = await sched.stats();
    expect(before.runs).toMatchObject({ total: 3, succeeded: 3 });
    expect(metricValue(await sched.metrics(), 'rae_runs_total', { job: 'work', status: 'succeeded' })).toBe(3);

    // A bug in the monitor's heartbeat handler: it crashes and restarts — twice in a row, so the
    // failed heartbeat stays in health for two heartbeat periods (a loaded machine polls slowly).
    hooks.throwIn('monitor', 'heartbeat', 2);
    const sick = await until('the monitor shown unhealthy', () => sched.health(), (h: Health) => h.components.monitor?.healthy === false);
    expect(sick.healthy).toBe(false);
    expect(sick.components.monitor!.detail).toMatch(/heartbeat failed: actor 'monitor' crashed: .*injected crash/);
    const back = await until('the monitor healthy again', () => sched.health(),
      (h: Health) => h.components.monitor?.healthy === true && h.components.monitor.restarts === 2);
    expect(back.components.monitor).toMatchObject({ healthy: true, restarts: 2 });
    expect(hooks.children().find((c) => c.id === 'monitor')).toMatchObject({ running: true, restarts: 2 });

    // A bug in `stats` itself: the caller still gets an answer, and a right one.
    hooks.throwIn('monitor', 'stats');
    const during = await sched.stats();
    expect(during.runs).toMatchObject({ total: 3, succeeded: 3 });
    await until('the second restart', () => hooks.children().find((c) => c.id === 'monitor')!.restarts, (n) => n === 3);

    // Rebuilt whole: runs from the store's rollup, restarts from the supervisor, uptime not reset.
    await sched.runNow('work');
    await runs.wait(4);
    const after = await until('stats to count the 4th run', () => sched.stats(), (st) => st.runs.total === 4);
    expect(after.runs).toMatchObject({ total: 4, succeeded: 4, successRate: 1 });
    expect(after.restarts.monitor).toBe(3);
    expect(after.uptimeMs).toBeGreaterThanOrEqual(before.uptimeMs);
    const text = await sched.metrics();
    // The counters of this process's events started again with the new incarnation (a reset,
    // which Prometheus' rate/increase handle): the one run since.
    expect(metricValue(text, 'rae_runs_total', { job: 'work', status: 'succeeded' })).toBe(1);
    expect(metricValue(text, 'rae_uptime_seconds')).toBeGreaterThanOrEqual(5);
    expect(metricValue(text, 'rae_jobs', { state: 'total' })).toBe(1);
    await until('health to clear', () => sched.health(), (h: Health) => h.healthy);
  }, 60_000);

  it('trigger hub: the change made while it was down fires after the restart; the dead hub fires nothing; the sampler runs again', async () => {
    const clock = new VirtualClock(T0);
    // New subscribes wait at this gate while the test holds it (a hub restarting, watching nothing yet).
    let gate: Promise<void> = Promise.resolve();
    let release: () => void = () => undefined;
    let subscribes = 0;
    const gated: Subscribe = async (d, cb) => {
      subscribes++;
      await gate;
      return parcelSubscribe(d, cb);
    };
    const opts: InternalOptions = { dataDir: dirs.dir(), clock, health: HEALTH, watchSubscribe: gated };
    s = dirs.track(await createScheduler(opts));
    const sched = s;
    const hooks = testHooksOf(sched);
    const runs = new RunCollector(sched.events$);
    const log = path.join(dirs.dir(), 'fired.log');
    await sched.addJob({
      name: 'ingest', schedule: 'never', command: `printf '%s\\n---\\n' "$RAE_EVENT_PATHS" >> ${log}`,
      triggers: [{ type: 'watch', paths: [dirs.watched()], debounceMs: 100 }],
    });
    await sched.addJob({ name: 'idle', schedule: 'never', command: 'true', triggers: [{ type: 'when', condition: 'memory used > 0%', cooldownMs: 3_600_000 }] });
    const bursts = (): string[][] => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '').split('---\n').filter((b) => b.trim() !== '')
      .map((b) => b.trim().split('\n'));
    const tick = async (): Promise<void> => {
      await clock.advance(200);
      await new Promise((r) => setTimeout(r, 25));
    };
    // A file arrives by rename from outside the watched directory: one inotify event, so one fire.
    // (Written in place, the watcher may report it as create + update, which on a loaded machine
    // land in two debounce windows: two fires, indistinguishable from a dead hub still firing.)
    const drop = (name: string, content: string): void => {
      const staged = path.join(dirs.dir(), `.staged-${name}`);
      fs.writeFileSync(staged, content);
      fs.renameSync(staged, path.join(dirs.watched(), name));
    };
    const snapshotsDir = path.join(dirs.dir(), 'watch-snapshots');
    const snapshotMtime = (): number => Math.max(0, ...fs.readdirSync(snapshotsDir).map((f) => fs.statSync(path.join(snapshotsDir, f)).mtimeMs));
    await until('the first snapshot', snapshotMtime, (t) => t > 0);

    // Live: a file arrives, the job runs for it; the snapshot is written after that fire.
    const snapBefore = snapshotMtime();
    drop('a.csv', 'a');
    await until('the fire for a.csv', bursts, (b) => b.length === 1, 30_000, tick);
    expect(bursts()[0]).toEqual([path.join(dirs.watched(), 'a.csv')]);
    await until('the snapshot after the fire', snapshotMtime, (t) => t > snapBefore);
    const h0 = await sched.health();
    expect(h0.components.watches).toMatchObject({ healthy: true, detail: expect.stringMatching(/^1 watched paths, 1 usage conditions/) });
    expect(h0.components.sampler).toMatchObject({ healthy: true });

    // A bug in the hub's heartbeat handler: it crashes; the new hub's subscribe is held at the gate.
    gate = new Promise((r) => { release = r; });
    const subsBefore = subscribes;
    hooks.throwIn('triggers', 'heartbeat', 2);
    const sick = await until('the triggers actor shown unhealthy', () => sched.health(), (h: Health) => h.components.triggers?.healthy === false);
    expect(sick.components.triggers!.detail).toMatch(/heartbeat failed: actor 'triggers' crashed: .*injected crash/);
    await until('the new hub subscribing', () => subscribes, (n) => n > subsBefore);
    expect(hooks.children().find((c) => c.id === 'triggers')).toMatchObject({ running: true });
    // Nothing watches now (the dead hub's watch is closed, the new one waits): a file arrives.
    drop('while-down.csv', 'b');
    await new Promise((r) => setTimeout(r, 200));
    release();
    // Caught up from the snapshot: the job runs for exactly that file.
    await until('the caught-up fire', bursts, (b) => b.length === 2, 30_000, tick);
    expect(bursts()[1]).toEqual([path.join(dirs.watched(), 'while-down.csv')]);

    // Live again, and only the new hub fires: one run per burst, not two.
    drop('after.csv', 'c');
    await until('the fire for after.csv', bursts, (b) => b.length === 3, 30_000, tick);
    for (let i = 0; i < 10; i++) await tick();
    expect(bursts()).toHaveLength(3);
    expect(bursts()[2]).toEqual([path.join(dirs.watched(), 'after.csv')]);
    expect(runs.runs.filter((r) => r.trigger === 'event' && r.status === 'succeeded').length).toBeGreaterThanOrEqual(3);

    // Health clears, with the hub's watches and its usage sampler back.
    const back = await until('health to clear', () => sched.health(), (h: Health) => h.components.triggers?.healthy === true && h.components.triggers.restarts === 2);
    expect(back.components.triggers!.restarts).toBe(2);
    expect(back.components.watches).toMatchObject({ healthy: true, detail: expect.stringMatching(/^1 watched paths, 1 usage conditions/) });
    expect(back.components.sampler).toMatchObject({ healthy: true, detail: expect.stringMatching(/^sampling every \d+ ms/) });
  }, 90_000);
});
