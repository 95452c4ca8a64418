/**
 * Nothing acknowledged is lost: jobs survive restarts, runs in flight at a crash come back
 * `interrupted`, slots missed while down follow the catch-up policy, and no slot runs twice.
 */
import { spawn } from 'node:child_process';
import { Store } from '../../src/actors/persistence/store';
import { newId } from '../../src/model/ids';
import { slotCount } from '../../src/model/run';
import { useSchedulers } from '../helpers/scheduler';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const MIN = 60_000;

describe('restart and recovery', () => {
  const fixture = useSchedulers();
  const open = fixture.open;

  it('keeps jobs across a restart and arms them again', async () => {
    const a = await open(T0);
    const job = await a.s.addJob({ name: 'keep', schedule: '*/5 * * * *', timezone: 'UTC', command: 'true' });
    await a.s.shutdown();
    const b = await open(T0 + 1000);
    const again = await b.s.getJob('keep');
    expect(again.id).toBe(job.id);
    expect(again.nextRunAt).toBe(new Date(T0 + 5 * MIN).toISOString());
    await b.s.shutdown();
  });

  it.each([
    ['once', 1, 9],
    ['all', 10, 0],
    ['none', 0, 10],
  ] as const)('catch-up %s: after 10 missed minutes runs %i and records %i missed', async (policy, ran, missed) => {
    const a = await open(T0);
    await a.s.addJob({ name: 'm', schedule: '* * * * *', timezone: 'UTC', command: 'true', catchUp: policy });
    await a.s.shutdown();
    const b = await open(T0 + 10 * MIN + 30_000);
    if (ran > 0) await b.runs.wait(ran);
    const history = await b.s.history('m', { limit: 100 });
    expect(history).toHaveLength(ran);
    expect(history.every((r) => r.trigger === 'catch-up' && r.status === 'succeeded')).toBe(true);
    const slots = (await b.s.why('m')).slots;
    // Missed slots are ONE range record, counting each slot exactly once.
    const ranges = slots.filter((sl) => sl.outcome === 'missed');
    expect(ranges).toHaveLength(missed > 0 ? 1 : 0);
    expect(ranges.reduce((n, sl) => n + slotCount(sl), 0)).toBe(missed);
    expect(slots.filter((sl) => sl.outcome === 'caught-up')).toHaveLength(ran);
    if (policy === 'once') expect(history[0]!.scheduledAt).toBe(new Date(T0 + 10 * MIN).toISOString());
    // The next slot is armed as usual.
    expect((await b.s.getJob('m')).nextRunAt).toBe(new Date(T0 + 11 * MIN).toISOString());
    await b.s.shutdown();
  });

  it('caps catch-up all so a month of downtime cannot flood the queue', async () => {
    const a = await open(T0);
    await a.s.addJob({ name: 'flood', schedule: '* * * * *', timezone: 'UTC', command: 'true', catchUp: 'all' });
    await a.s.shutdown();
    const b = await open(T0 + 30 * 86_400_000);
    await b.runs.wait(100, 60_000);
    const history = await b.s.history('flood', { limit: 1000 });
    expect(history).toHaveLength(100);
    const jobId = (await b.s.getJob('flood')).id;
    await b.s.shutdown();
    const store = await Store.open({ dataDir: fixture.dir(), readOnly: true });
    const slots = store.listSlots(jobId, 10_000);
    await store.close();
    // 43,200 slots were missed: 100 ran, the rest are explained by a bounded number of records.
    expect(slots.filter((sl) => sl.outcome === 'caught-up')).toHaveLength(100);
    const missed = slots.filter((sl) => sl.outcome === 'missed');
    expect(missed.length).toBeGreaterThan(0);
    expect(missed.length).toBeLessThanOrEqual(1000);
    expect(missed.some((sl) => /not recorded one by one/.test(sl.reason ?? ''))).toBe(true);
  }, 90_000);

  it('marks a run that was in flight at a crash as interrupted, and retries it per policy', async () => {
    const a = await open(T0);
    const job = await a.s.addJob({ name: 'crashy', schedule: 'never', command: 'true', retry: { maxRetries: 1, backoffMs: 1000 } });
    await a.s.shutdown();
    // What a crash leaves behind: a run stored as `running` that no process will ever finish.
    const store = await Store.open({ dataDir: fixture.dir() });
    const runId = newId('run', T0);
    await store.putRun({
      id: runId, jobId: job.id, attempt: 1, trigger: 'manual', status: 'running', exitCode: null, signal: null,
      scheduledAt: new Date(T0).toISOString(), startedAt: new Date(T0).toISOString(), finishedAt: null,
      durationMs: null, peakMemoryBytes: null, error: null, output: '',
    });
    await store.close();
    const b = await open(T0 + MIN);
    // Recovery happened during start-up, before createScheduler resolved.
    expect((await b.s.history('crashy')).find((r) => r.id === runId)).toMatchObject({ status: 'interrupted' });
    await b.clock.advance(1500);
    const [retry] = await b.runs.wait(1);
    expect(retry).toMatchObject({ attempt: 2, trigger: 'retry', status: 'succeeded' });
    await b.s.shutdown();
  });

  it('kills the processes a crashed scheduler left running, identified by their run id', async () => {
    const a = await open(T0);
    const job = await a.s.addJob({ name: 'orphan', schedule: 'never', command: 'true' });
    await a.s.shutdown();
    const runId = newId('run', T0);
    // What `kill -9` of the daemon leaves: the run's process group, still running, and its run stored as running.
    const child = spawn('/bin/sh', ['-c', 'sleep 60 & sleep 60'], {
      detached: true, stdio: 'ignore', env: { ...process.env, RAE_SCHED_RUN_ID: runId },
    });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_c, sig) => r(sig)));
    const store = await Store.open({ dataDir: fixture.dir() });
    await store.putRun({
      id: runId, jobId: job.id, attempt: 1, trigger: 'manual', status: 'running', exitCode: null, signal: null,
      scheduledAt: new Date(T0).toISOString(), startedAt: new Date(T0).toISOString(), finishedAt: null,
      durationMs: null, peakMemoryBytes: null, error: null, output: '',
    });
    await store.close();
    try {
      await open(T0 + MIN);
      expect(await exited).toBe('SIGKILL');
    } finally {
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone: the point of the test */ }
    }
  });

  it('interrupts runs still going when the shutdown grace period ends', async () => {
    const a = await open(T0);
    await a.s.addJob({ name: 'long', schedule: 'never', command: 'sleep 30' });
    const started = new Promise<void>((resolve) => {
      const sub = a.s.events$.subscribe((e) => { if (e.type === 'run.started') { sub.unsubscribe(); resolve(); } });
    });
    const run = await a.s.runNow('long');
    await started;
    await a.s.shutdown({ graceMs: 200 });
    const b = await open(T0 + MIN);
    const [stored] = await b.s.history('long');
    expect(stored).toMatchObject({ id: run.id, status: 'interrupted' });
    await b.s.shutdown();
  });

  it('fires @reboot jobs when the scheduler starts', async () => {
    const a = await open(T0);
    await a.s.addJob({ name: 'boot', schedule: '@reboot', command: 'true' });
    await a.s.shutdown();
    const b = await open(T0 + MIN);
    const [run] = await b.runs.wait(1);
    expect(run).toMatchObject({ trigger: 'event', status: 'succeeded' });
    await b.s.shutdown();
  });
});
