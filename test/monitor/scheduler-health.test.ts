/**
 * The operator checks of `health` (src/scheduler-health.ts over src/actors/monitor/checks.ts), one
 * component at a time, each shown turning unhealthy with the detail docs/operations.md promises and
 * healthy again: runs past their timeout, event-loop lag (a real blocked loop), free disk under the
 * floor (a real statfs), a failing store, dead watches, a failing usage sampler, a restarting actor,
 * a check that throws. The end-to-end cases (heartbeats of real actors, the dead-man's switch, a
 * real full disk) are test/health/health-truth.int.test.ts and test/faults/disk.int.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEALTH_DEFAULTS, type HealthSettings } from '../../src/actors/monitor/checks';
import type { TriggerHealth } from '../../src/actors/triggers/hub';
import type { Run } from '../../src/model/run';
import { VirtualClock } from '../../src/runtime/clock';
import { SchedulerHealth, type HealthSources } from '../../src/scheduler-health';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();

function running(id: string, jobId: string, startedAt: number): Run {
  return {
    id, jobId, attempt: 1, trigger: 'schedule', status: 'running', exitCode: null, signal: null, scheduledAt: iso(startedAt),
    startedAt: iso(startedAt), finishedAt: null, durationMs: null, peakMemoryBytes: null, error: null, output: '',
  };
}

interface World {
  clock: VirtualClock;
  health: SchedulerHealth;
  set: {
    fault(f: string | null): void;
    running(r: Array<{ run: Run; timeoutMs: number | null }>): void;
    triggers(t: TriggerHealth | null): void;
    children(c: Array<{ id: string; running: boolean; restarts: number }>): void;
  };
}

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'rae-health-checks-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function world(settings: Partial<HealthSettings> = {}): World {
  const clock = new VirtualClock(T0);
  let fault: string | null = null;
  let runs: Array<{ run: Run; timeoutMs: number | null }> = [];
  let triggers: TriggerHealth | null = null;
  let children = [{ id: 'scheduler', running: true, restarts: 0 }];
  const sources: HealthSources = {
    clock, dataDir: dir, settings: { ...HEALTH_DEFAULTS, ...settings },
    children: () => children, heartbeatTargets: [], storeFault: () => fault, earliest: () => null,
    running: () => runs, triggers: () => triggers, nameOf: (id) => (id === 'job_1' ? 'nightly' : null),
  };
  return {
    clock,
    health: new SchedulerHealth(sources),
    set: {
      fault: (f) => { fault = f; },
      running: (r) => { runs = r; },
      triggers: (t) => { triggers = t; },
      children: (c) => { children = c; },
    },
  };
}

it("runs: a run more than the grace past its timeout is unhealthy, naming the run and its job's name", async () => {
  const w = world({ runTimeoutGraceMs: 30_000 });
  w.set.running([{ run: running('run_a', 'job_1', T0), timeoutMs: 60_000 }, { run: running('run_b', 'job_2', T0), timeoutMs: null }]);
  await w.clock.advance(60_000 + 30_000);
  expect(w.health.health().components.runs).toEqual({ healthy: true, detail: '2 running' });
  await w.clock.advance(1_000);
  const h = w.health.health();
  expect(h.healthy).toBe(false);
  expect(h.components.runs).toEqual({ healthy: false, detail: '1 run past the timeout: run_a of nightly is 31 s past its 60 s timeout' });
  w.set.running([]);
  expect(w.health.health().components.runs).toEqual({ healthy: true, detail: '0 running' });
});

it('eventLoop: a main thread blocked past the bound is unhealthy with its p99 and max; within the bound it is healthy', async () => {
  const w = world({ maxEventLoopLagMs: 100 });
  expect(w.health.health().components.eventLoop).toEqual({ healthy: true, detail: 'not sampled yet' });
  w.health.sampler.start();
  try {
    // start() takes a first sample (and resets the delay histogram): wait for it, so the block
    // below falls in the next window and the take() after it is not skipped as overlapping.
    while (w.health.sampler.sample.freeBytes === null) await new Promise((r) => setTimeout(r, 5));
    // Let the 20 ms delay sampler tick, then hold the loop 400 ms (only longer under load).
    await new Promise((r) => setTimeout(r, 50));
    const until = Date.now() + 400;
    while (Date.now() < until) { /* blocked on purpose */ }
    await new Promise((r) => setTimeout(r, 30));
    await w.health.sampler.take();
    const lag = w.health.health().components.eventLoop!;
    expect(lag.healthy).toBe(false);
    expect(lag.detail).toMatch(/^lag p99 \d+\.\d ms, max \d+\.\d ms \(bound 100 ms\)$/);
    // The bound is on the window's p99 (its max is only shown).
    w.health.sampler.sample = { ...w.health.sampler.sample, lagP99Ms: 21, lagMaxMs: 250 };
    expect(w.health.health().components.eventLoop).toEqual({ healthy: true, detail: 'lag p99 21.0 ms, max 250.0 ms (bound 100 ms)' });
  } finally {
    w.health.sampler.stop();
  }
});

it("disk: free space under the floor is unhealthy, showing free vs floor (a real statfs of the store's file system)", async () => {
  const low = world({ minFreeDiskBytes: Number.MAX_SAFE_INTEGER });
  expect(low.health.health().components.disk).toEqual({ healthy: true, detail: 'free space not sampled yet' });
  await low.health.sampler.take();
  expect(low.health.health().components.disk).toMatchObject({ healthy: false, detail: expect.stringMatching(/^\d+ MiB free \(floor \d+ MiB\)$/) });
  const fine = world({ minFreeDiskBytes: 0 });
  await fine.health.sampler.take();
  expect(fine.health.health().components.disk).toMatchObject({ healthy: true, detail: expect.stringMatching(/ free \(floor 0 MiB\)$/) });
});

it('store: failing commits are unhealthy (fires kept and retried) until they succeed again', () => {
  const w = world();
  expect(w.health.health().components.store).toEqual({ healthy: true });
  w.set.fault('PERSISTENCE: ENOSPC');
  expect(w.health.health().components.store).toEqual({ healthy: false, detail: 'commits are failing (fires are kept and retried): PERSISTENCE: ENOSPC' });
  w.set.fault(null);
  expect(w.health.health().components.store).toEqual({ healthy: true });
});

it('watches and sampler: shown only with triggers; a dead watch names its job, a failing sampler says why', () => {
  const w = world();
  expect(w.health.health().components.watches).toBeUndefined();
  expect(w.health.health().components.sampler).toBeUndefined();
  w.set.triggers({ watches: 2, conditions: 1, dead: [], deadCount: 0, sampler: { healthy: true, periodMs: 5000, detail: null } });
  expect(w.health.health().components.watches).toEqual({ healthy: true, detail: '2 watched paths, 1 usage conditions' });
  expect(w.health.health().components.sampler).toEqual({ healthy: true, detail: 'sampling every 5000 ms' });
  w.set.triggers({
    watches: 2, conditions: 1, dead: [{ jobId: 'job_1', detail: "watched directory '/in' was deleted" }], deadCount: 3,
    sampler: { healthy: false, periodMs: 5000, detail: 'the last sample failed: EACCES' },
  });
  const h = w.health.health();
  expect(h.components.watches).toEqual({
    healthy: false,
    detail: "3 dead watches (retried with backoff) — nightly: watched directory '/in' was deleted (and 2 more); 2 watched paths, 1 usage conditions",
  });
  expect(h.components.sampler).toEqual({ healthy: false, detail: 'the last sample failed: EACCES' });
});

it('an actor mid-restart is unhealthy with its restart count; a throwing check is itself unhealthy, never an error of health', () => {
  const w = world();
  w.set.children([{ id: 'queue', running: false, restarts: 2 }]);
  w.health.extra.push({ name: 'broken', run: () => { throw new Error('no such table'); } });
  const h = w.health.health();
  expect(h.components.queue).toEqual({ healthy: false, restarts: 2, detail: 'restarting (restart 2)' });
  expect(h.components.broken).toEqual({ healthy: false, detail: 'check failed: no such table' });
  w.set.children([{ id: 'queue', running: true, restarts: 2 }]);
  expect(w.health.health().components.queue).toEqual({ healthy: true, restarts: 2 });
});
