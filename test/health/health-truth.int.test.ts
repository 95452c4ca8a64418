/**
 * Health that tells the truth, with real actors: a missed heartbeat, an overdue fire (dead-man's
 * switch), and health/stats/metrics answering beside a busy scheduler.
 */
import { createScheduler, type Scheduler } from '../../src/index';
import { testHooksOf } from '../../src/scheduler';
import { VirtualClock } from '../../src/testing';
import type { Health } from '../../src/api';
import { RunCollector, removeDir, tempDir } from '../helpers/scheduler';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

/** Polls `health()` (real time) until `pred` holds; fails with the last answer after `ms`. */
async function healthUntil(s: Scheduler, pred: (h: Health) => boolean, ms = 30_000): Promise<Health> {
  const until = Date.now() + ms;
  let last: Health | null = null;
  while (Date.now() < until) {
    last = await s.health();
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`health never matched; last: ${JSON.stringify(last)}`);
}

describe('health that tells the truth', () => {
  let dir: string;
  let s: Scheduler | null = null;
  beforeEach(() => { dir = tempDir(); });
  afterEach(async () => {
    await s?.shutdown({ graceMs: 0 });
    s = null;
    removeDir(dir);
  });

  it('an actor that misses its heartbeat is unhealthy (named); after its restart it is healthy again, with the restart count', async () => {
    const clock = new VirtualClock(T0);
    s = await createScheduler({ dataDir: dir, clock, health: { heartbeatEveryMs: 50, heartbeatTimeoutMs: 400 } });
    const runs = new RunCollector(s.events$);
    await s.addJob({ name: 'work', schedule: 'never', command: 'true' });
    expect((await healthUntil(s, (h) => h.healthy)).components.executor).toMatchObject({ healthy: true, restarts: 0 });

    // The executor's next hand-over hangs (8 s of real time): its mailbox stops answering.
    await testHooksOf(s).executorFault({ mode: 'slow', ms: 8000 });
    await s.runNow('work');
    const sick = await healthUntil(s, (h) => h.components.executor?.healthy === false);
    expect(sick.healthy).toBe(false);
    expect(sick.components.executor!.detail).toMatch(/no heartbeat answer for \d+ ms \(deadline 400 ms\)/);

    await testHooksOf(s).fault('executor');
    const back = await healthUntil(s, (h) => h.components.executor?.healthy === true && (h.components.executor.restarts ?? 0) >= 1);
    expect(back.components.executor!.restarts).toBe(1);
    // The run in flight at the crash is recorded interrupted (no retries configured).
    expect((await runs.wait(1, 30_000))[0]!.status).toBe('interrupted');
    await healthUntil(s, (h) => h.healthy);
  }, 60_000);

  it('dead-man\'s switch: a fire overdue past the tolerance makes health unhealthy naming the job; it clears once the job ran', async () => {
    const clock = new VirtualClock(T0);
    s = await createScheduler({ dataDir: dir, clock, health: { deadManToleranceMs: 60_000 } });
    const runs = new RunCollector(s.events$);
    await s.addJob({ name: 'tick', schedule: 'every 1m', command: 'true', catchUp: 'once' });
    expect((await s.health()).components.deadman).toMatchObject({ healthy: true });

    // The wall clock moves 5 minutes while no timer fires: the 00:01 fire is 4 minutes overdue.
    clock.jump(5 * 60_000);
    const h = await s.health();
    expect(h.healthy).toBe(false);
    expect(h.components.deadman!.healthy).toBe(false);
    expect(h.components.deadman!.detail).toContain("job 'tick'");
    expect(h.components.deadman!.detail).toContain('2030-01-01T00:01:00.000Z');

    // The timer wakes, sees the jump, the catch-up policy runs the job once: it clears.
    await clock.advance(60_000);
    await runs.wait(1, 30_000);
    const after = await s.health();
    expect(after.components.deadman).toMatchObject({ healthy: true });
  }, 60_000);

  it('health, stats and metrics answer while the scheduler\'s mailbox holds a burst of 200 runNow', async () => {
    const clock = new VirtualClock(T0);
    s = await createScheduler({ dataDir: dir, clock, maxConcurrentJobs: 1 });
    const runs = new RunCollector(s.events$);
    await s.addJob({ name: 'work', schedule: 'never', command: 'true', overlap: 'allow' });
    let answered = 0;
    const burst = Array.from({ length: 200 }, () => s!.runNow('work').then(() => answered++));
    const seenAt: Record<string, number> = {};
    const [health, stats, metrics] = await Promise.all([
      s.health().then((v) => ((seenAt.health = answered), v)),
      s.stats().then((v) => ((seenAt.stats = answered), v)),
      s.metrics().then((v) => ((seenAt.metrics = answered), v)),
    ]);
    // None of them waited for the burst (they are asks to the monitor's mailbox, not the scheduler's).
    for (const [what, n] of Object.entries(seenAt)) expect({ what, before: n < 200 }).toEqual({ what, before: true });
    expect(Object.keys(health.components)).toEqual(expect.arrayContaining(['scheduler', 'monitor', 'store', 'disk', 'eventLoop', 'deadman', 'runs']));
    expect(stats.jobs.total).toBe(1);
    expect(metrics).toContain('rae_component_up{component="scheduler"}');
    await Promise.all(burst);
    await runs.wait(200, 120_000);
    expect(metrics).toContain('rae_monitor_events_lost_total');
  }, 180_000);
});
