import { Subject } from 'rxjs';
import { Monitor, type MonitorProbes } from '../../src/actors/monitor/monitor';
import type { ComponentHealth } from '../../src/api';
import type { SchedulerEvent } from '../../src/model/events';
import type { Job } from '../../src/model/job';
import type { Run, RunStatus, SlotOutcome } from '../../src/model/run';
import { VirtualClock } from '../../src/runtime/clock';
import { parseExposition, valueOf } from './prometheus';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();

function job(id: string, name: string): Job {
  return {
    id, name, schedule: 'every 1 minute', timezone: null, command: 'true', module: null, enabled: true, priority: 0,
    retry: { maxRetries: 0, backoffMs: 1000 }, limits: {}, overlap: 'skip', catchUp: 'once', cwd: null, env: {},
    triggers: [], jitterMs: 0, createdAt: iso(T0), updatedAt: iso(T0), completedAt: null, nextRunAt: null, lastRun: null,
    state: 'scheduled',
  };
}

let seq = 0;
function run(jobId: string, status: RunStatus, durationMs: number | null, scheduledAt = T0, startedAt = T0): Run {
  return {
    id: `run-${seq++}`, jobId, attempt: 1, trigger: 'schedule', status, exitCode: status === 'succeeded' ? 0 : 1, signal: null,
    scheduledAt: iso(scheduledAt), startedAt: iso(startedAt), finishedAt: iso(startedAt + (durationMs ?? 0)), durationMs,
    peakMemoryBytes: null, error: null, output: '',
  };
}

function setup(over: Partial<MonitorProbes> = {}, opts: { maxJobLabels?: number } = {}) {
  const clock = new VirtualClock(T0);
  const events$ = new Subject<SchedulerEvent>();
  let components: Record<string, ComponentHealth> = {
    scheduler: { healthy: true }, persistence: { healthy: true, restarts: 0 }, executor: { healthy: true },
  };
  const queue = { depth: 3, running: 2, scheduled: 40 };
  const probes: MonitorProbes = {
    queue: () => queue,
    components: () => components,
    jobs: async () => ({ total: 42, enabled: 40, paused: 1, done: 1 }),
    ...over,
  };
  const monitor = new Monitor({ clock, events$, probes, ...opts });
  const emit = (e: SchedulerEvent): void => events$.next(e);
  const finish = (jobId: string, status: RunStatus, durationMs: number | null = 1000): void =>
    emit({ type: 'run.finished', at: iso(clock.now()), run: run(jobId, status, durationMs) });
  const slot = (outcome: SlotOutcome): void =>
    emit({ type: 'slot.recorded', at: iso(T0), slot: { jobId: 'j1', at: iso(T0), outcome, runId: null, reason: null, recordedAt: iso(T0) } });
  return {
    clock, events$, monitor, emit, finish, slot, queue,
    setComponents: (c: Record<string, ComponentHealth>) => (components = c),
  };
}

describe('Monitor.stats', () => {
  it('counts finished runs by status, with a success rate that ignores skipped runs', async () => {
    const { monitor, finish } = setup();
    for (let i = 0; i < 6; i++) finish('j1', 'succeeded');
    finish('j1', 'failed');
    finish('j1', 'timeout');
    finish('j2', 'killed');
    finish('j2', 'interrupted');
    finish('j2', 'skipped', null);
    finish('j2', 'skipped', null);
    const s = await monitor.stats();
    expect(s.runs).toEqual({ total: 12, succeeded: 6, failed: 1, timeout: 1, killed: 1, interrupted: 1, skipped: 2, successRate: 0.6 });
    expect(s.jobs).toEqual({ total: 42, enabled: 40, paused: 1, done: 1 });
    expect(s.queue).toEqual({ depth: 3, running: 2, scheduled: 40 });
  });

  it('reports a null success rate and null percentiles before any run', async () => {
    const { monitor } = setup();
    const s = await monitor.stats();
    expect(s.runs.successRate).toBeNull();
    expect(s.durationMs).toEqual({ p50: null, p90: null, p99: null, max: null });
  });

  it('computes duration percentiles from finished runs', async () => {
    const { monitor, finish } = setup();
    for (let ms = 1; ms <= 200; ms++) finish('j1', ms % 2 === 0 ? 'succeeded' : 'failed', ms * 10);
    finish('j1', 'skipped', null); // never ran: no duration
    expect((await monitor.stats()).durationMs).toEqual({ p50: 1000, p90: 1800, p99: 1980, max: 2000 });
  });

  it('counts restarts per actor from events, and takes a higher count reported by the supervisor', async () => {
    const { monitor, emit, setComponents } = setup();
    emit({ type: 'actor.restarted', at: iso(T0), actor: 'parser', reason: 'worker exited' });
    emit({ type: 'actor.restarted', at: iso(T0), actor: 'parser', reason: 'worker exited' });
    emit({ type: 'actor.restarted', at: iso(T0), actor: 'executor', reason: 'pool error' });
    setComponents({ parser: { healthy: true, restarts: 1 }, persistence: { healthy: true, restarts: 4 } });
    expect((await monitor.stats()).restarts).toEqual({ parser: 2, executor: 1, persistence: 4 });
  });

  it('measures uptime on the monotonic clock, immune to wall-clock jumps', async () => {
    const { monitor, clock } = setup();
    await clock.advance(90_000);
    clock.jump(-3_600_000);
    expect((await monitor.stats()).uptimeMs).toBe(90_000);
  });

  it('keeps going after a malformed event, and stops following the bus on stop()', async () => {
    const { monitor, emit, finish } = setup();
    emit({ type: 'run.finished', at: iso(T0), run: { ...run('j1', 'succeeded', 5), status: 'running' } });
    emit({ type: 'run.started', at: 'garbage', run: { ...run('j1', 'running', null), startedAt: null, scheduledAt: 'nope' } });
    finish('j1', 'succeeded');
    expect(monitor.droppedEvents).toBe(2);
    expect((await monitor.stats()).runs.total).toBe(1);
    monitor.stop();
    finish('j1', 'succeeded');
    expect((await monitor.stats()).runs.total).toBe(1);
  });
});

describe('Monitor.health', () => {
  it('is healthy only when every component is', async () => {
    const { monitor, setComponents } = setup();
    expect((await monitor.health()).healthy).toBe(true);
    setComponents({ scheduler: { healthy: true }, persistence: { healthy: false, detail: 'LMDB closed', restarts: 3 } });
    const h = await monitor.health();
    expect(h).toEqual({
      healthy: false,
      components: { scheduler: { healthy: true }, persistence: { healthy: false, detail: 'LMDB closed', restarts: 3 } },
    });
  });

  it('reports unhealthy (not a throw) when the components probe fails', async () => {
    const { monitor } = setup({ components: () => { throw new Error('supervisor gone'); } });
    const h = await monitor.health();
    expect(h.healthy).toBe(false);
    expect(h.components['monitor']?.detail).toEqual(expect.stringContaining('supervisor gone'));
  });
});

describe('Monitor.metrics', () => {
  it('exposes every metric as valid Prometheus text, and counters increase', async () => {
    const { monitor, emit, finish, slot, queue } = setup();
    emit({ type: 'job.added', at: iso(T0), job: job('j1', 'backup') });
    finish('j1', 'succeeded', 1500);
    finish('j1', 'failed', 200);
    emit({ type: 'run.started', at: iso(T0), run: run('j1', 'running', null, T0, T0 + 30) });
    emit({ type: 'actor.restarted', at: iso(T0), actor: 'parser', reason: 'crash' });
    emit({ type: 'clock.jumped', at: iso(T0), deltaMs: 3_600_000 });
    slot('fired');
    slot('missed');
    slot('missed');

    const first = parseExposition(await monitor.metrics());
    expect(first.types).toEqual(new Map([
      ['rae_runs_total', 'counter'], ['rae_run_duration_seconds', 'histogram'], ['rae_fire_lateness_seconds', 'histogram'],
      ['rae_queue_depth', 'gauge'], ['rae_running_runs', 'gauge'], ['rae_scheduled_jobs', 'gauge'],
      ['rae_actor_restarts_total', 'counter'], ['rae_slots_total', 'counter'], ['rae_jobs', 'gauge'],
      ['rae_component_up', 'gauge'], ['rae_clock_jumps_total', 'counter'], ['rae_uptime_seconds', 'gauge'],
      ['rae_monitor_event_errors_total', 'counter'], ['rae_monitor_events_lost_total', 'counter'],
    ]));
    expect(valueOf(first, 'rae_runs_total', { job: 'backup', status: 'succeeded' })).toBe(1);
    expect(valueOf(first, 'rae_runs_total', { job: 'backup', status: 'failed' })).toBe(1);
    expect(valueOf(first, 'rae_run_duration_seconds_count', { job: 'backup' })).toBe(2);
    expect(valueOf(first, 'rae_run_duration_seconds_sum', { job: 'backup' })).toBeCloseTo(1.7);
    expect(valueOf(first, 'rae_run_duration_seconds_bucket', { job: 'backup', le: '1' })).toBe(1);
    expect(valueOf(first, 'rae_fire_lateness_seconds_bucket', { le: '0.025' })).toBe(0);
    expect(valueOf(first, 'rae_fire_lateness_seconds_bucket', { le: '0.05' })).toBe(1);
    expect(valueOf(first, 'rae_queue_depth')).toBe(3);
    expect(valueOf(first, 'rae_running_runs')).toBe(2);
    expect(valueOf(first, 'rae_scheduled_jobs')).toBe(40);
    expect(valueOf(first, 'rae_actor_restarts_total', { actor: 'parser' })).toBe(1);
    expect(valueOf(first, 'rae_slots_total', { outcome: 'missed' })).toBe(2);
    expect(valueOf(first, 'rae_jobs', { state: 'paused' })).toBe(1);
    expect(valueOf(first, 'rae_component_up', { component: 'persistence' })).toBe(1);
    expect(valueOf(first, 'rae_clock_jumps_total')).toBe(1);

    finish('j1', 'succeeded', 100);
    slot('missed');
    queue.depth = 7;
    const second = parseExposition(await monitor.metrics());
    expect(valueOf(second, 'rae_runs_total', { job: 'backup', status: 'succeeded' })).toBe(2);
    expect(valueOf(second, 'rae_slots_total', { outcome: 'missed' })).toBe(3);
    expect(valueOf(second, 'rae_queue_depth')).toBe(7);
    expect(monitor.metricsContentType).toEqual(expect.stringContaining('text/plain'));
  });

  it('caps the job label: names past maxJobLabels are exported as _other', async () => {
    const { monitor, emit, finish } = setup({}, { maxJobLabels: 2 });
    for (let i = 0; i < 5; i++) {
      emit({ type: 'job.added', at: iso(T0), job: job(`id${i}`, `job-${i}`) });
      finish(`id${i}`, 'succeeded');
    }
    const e = parseExposition(await monitor.metrics());
    const jobs = new Set(e.samples.filter((s) => s.name === 'rae_runs_total').map((s) => s.labels['job']));
    expect(jobs).toEqual(new Set(['job-0', 'job-1', '_other']));
    expect(valueOf(e, 'rae_runs_total', { job: '_other', status: 'succeeded' })).toBe(3);
  });

  it('uses a registry per instance: two monitors in one process do not share counts', async () => {
    const a = setup();
    const b = setup();
    a.finish('j1', 'succeeded');
    a.finish('j1', 'succeeded');
    b.finish('j1', 'succeeded');
    expect(valueOf(parseExposition(await a.monitor.metrics()), 'rae_runs_total', { job: 'j1', status: 'succeeded' })).toBe(2);
    expect(valueOf(parseExposition(await b.monitor.metrics()), 'rae_runs_total', { job: 'j1', status: 'succeeded' })).toBe(1);
  });
});
