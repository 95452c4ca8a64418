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

  // The issue: `health`, `stats` and `metrics` answer within 1 s even while the scheduler is
  // saturated. This test used to fire the 200 runNow and assert the three answered before the
  // 200th acknowledgement — an order between two things that run concurrently (the answers go
  // through the monitor's mailbox and, in the threads placement, its probe round trips through the
  // main thread; the acknowledgements through the scheduler's mailbox and a commit), so it was a
  // race, not a property: on a loaded machine the burst sometimes won (a probe of 20 bursts in the
  // threads placement at load 12-25: `metrics` after the 200th acknowledgement 6 times with the
  // serial monitor, once with its answers side by side; even `health`, first, lost it). What is
  // true, and asserted here: (1) while the scheduler's mailbox is held — its first `runNowMany`
  // runs 3 s late, so the whole burst waits behind it — all three answer with no runNow
  // acknowledged yet (`health` from the monitor, not the fallback); their own deadline is 1 s
  // (MONITOR_DEADLINE_MS), so an answer that waited for the scheduler would have failed (a monitor
  // in a thread) or fallen back (on the main thread) first; (2) while the 200 runs then
  // execute (one at a time: the queue is full), they answer again (`health` from the monitor); (3) happens-
  // before: an answer counts every event published before the question — once the 200 run.finished
  // were seen, `metrics` shows 200 succeeded runs and `stats` 200 succeeded.
  it('health, stats and metrics answer while the scheduler\'s mailbox holds a burst of 200 runNow, and count every run finished before the question', async () => {
    const clock = new VirtualClock(T0);
    s = await createScheduler({ dataDir: dir, clock, maxConcurrentJobs: 1 });
    const runs = new RunCollector(s.events$);
    await s.addJob({ name: 'work', schedule: 'never', command: 'true', overlap: 'allow' });
    const fromMonitor = (h: Health): void => expect(h.components.monitor).toMatchObject({ healthy: true });
    testHooksOf(s).throwIn('scheduler', 'runNowMany', 1, { delayMs: 3000 });
    let answered = 0;
    const burst = Array.from({ length: 200 }, () => s!.runNow('work').then(() => answered++));
    const seenAt: Record<string, number> = {};
    const [health, stats, metrics] = await Promise.all([
      s.health().then((v) => ((seenAt.health = answered), v)),
      s.stats().then((v) => ((seenAt.stats = answered), v)),
      s.metrics().then((v) => ((seenAt.metrics = answered), v)),
    ]);
    expect(seenAt).toEqual({ health: 0, stats: 0, metrics: 0 });
    fromMonitor(health);
    expect(Object.keys(health.components)).toEqual(expect.arrayContaining(['scheduler', 'monitor', 'store', 'disk', 'eventLoop', 'deadman', 'runs']));
    expect(stats.jobs.total).toBe(1);
    expect(metrics).toContain('rae_component_up{component="scheduler"}');
    expect(metrics).toContain('rae_monitor_events_lost_total');

    await Promise.all(burst);
    // Saturated: 200 runs acknowledged, executed one at a time.
    const busy = await Promise.all([s.health(), s.stats(), s.metrics()]);
    fromMonitor(busy[0]);
    expect(busy[1].jobs.total).toBe(1);
    expect(busy[2]).toContain('rae_runs_total');

    await runs.wait(200, 120_000);
    const [after, afterStats, afterMetrics] = await Promise.all([s.health(), s.stats(), s.metrics()]);
    fromMonitor(after);
    expect(afterStats.runs.succeeded).toBe(200);
    expect(afterMetrics).toContain('rae_runs_total{job="work",status="succeeded"} 200');
  }, 180_000);
});
