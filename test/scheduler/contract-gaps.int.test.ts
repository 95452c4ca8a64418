/**
 * Issue 11's defects at the library: restore drops the replaced jobs' triggers, maxQueuedJobs
 * refuses runNow, names shaped like ids, private stores, skipped fires in history and stats.
 * Real threads, LMDB and processes; time on a virtual clock.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createScheduler } from '../../src/index';
import { useSchedulers } from '../helpers/scheduler';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const { dir, open } = useSchedulers();

describe('restore through a running scheduler', () => {
  it('resolves only once the restored jobs are armed: a read right after shows each next run', async () => {
    const { s } = await open(T0);
    await s.addJob({ name: 'hourly', schedule: 'every 1h', command: 'true' });
    await s.addJob({ name: 'once', schedule: 'at 2030-01-02T09:00:00Z', command: 'true' });
    const doc = await s.backup();
    await s.removeJob('hourly');
    await s.removeJob('once');
    await s.restore(doc);
    expect((await s.getJob('hourly')).nextRunAt).toBe('2030-01-01T01:00:00.000Z');
    expect((await s.getJob('once')).nextRunAt).toBe('2030-01-02T09:00:00.000Z');
  });

  it('removes the replaced jobs\' watches and usage conditions', async () => {
    const { s } = await open(T0);
    const empty = await s.backup();
    const watched = join(dir(), 'watched');
    mkdirSync(watched);
    await s.addJob({
      name: 'w', schedule: 'never', command: 'true',
      triggers: [{ type: 'watch', paths: [watched] }, { type: 'when', condition: 'load > 1000 for 1m' }],
    });
    expect((await s.health()).components.watches!.detail).toBe('1 watched paths, 1 usage conditions');
    await s.restore(empty);
    expect((await s.health()).components.watches!.detail).toBe('0 watched paths, 0 usage conditions');
    expect(await s.listJobs()).toEqual([]);
    // The hub still works for jobs added after the restore.
    await s.addJob({ name: 'w2', schedule: 'never', command: 'true', triggers: [{ type: 'watch', paths: [watched] }] });
    expect((await s.health()).components.watches!.detail).toBe('1 watched paths, 0 usage conditions');
  });
});

describe('maxQueuedJobs', () => {
  it('refuses runNow with QUEUE_FULL and records nothing for the refused run', async () => {
    const { s } = await open(T0, { maxConcurrentJobs: 1, maxQueuedJobs: 1 });
    await s.addJob({ name: 'slow', schedule: 'never', command: 'sleep 30' });
    const first = await s.runNow('slow'); // starts at once
    const second = await s.runNow('slow'); // waits in the queue (1 of 1)
    await expect(s.runNow('slow')).rejects.toMatchObject({ code: 'QUEUE_FULL', name: 'QueueFullError' });
    const history = await s.history('slow');
    expect(history.map((r) => r.id).sort()).toEqual([first.id, second.id].sort());
    expect(history.map((r) => r.status).sort()).toEqual(['queued', 'running']);
  });
});

describe('job names', () => {
  it('refuses a name that has the form of a job id, and one over 200 characters, with its own message', async () => {
    const { s } = await open(T0);
    const job = await s.addJob({ name: 'a', schedule: 'never', command: 'true' });
    await expect(s.addJob({ name: job.id, schedule: 'never', command: 'true' }))
      .rejects.toMatchObject({ code: 'VALIDATION', field: 'name', message: expect.stringMatching(/form of a job id/) });
    await expect(s.addJob({ name: 'job_01m8zzzzzzzzzzzzzzzzzz', schedule: 'never', command: 'true' }))
      .rejects.toMatchObject({ code: 'VALIDATION', field: 'name' });
    await expect(s.addJob({ name: 'x'.repeat(201), schedule: 'never', command: 'true' }))
      .rejects.toMatchObject({ code: 'VALIDATION', message: 'name: is longer than 200 characters' });
    expect((await s.addJob({ name: 'job_report', schedule: 'never', command: 'true' })).name).toBe('job_report');
  });
});

describe('a data directory created by the library (offline, as the CLI opens it)', () => {
  it('is private: directory 0700, store files 0600', async () => {
    const fresh = join(dir(), 'fresh');
    const s = await createScheduler({ dataDir: fresh, mode: 'offline' });
    try {
      await s.addJob({ name: 'secret', schedule: 'never', command: 'true', env: { TOKEN: 'x' } });
    } finally {
      await s.shutdown({ graceMs: 0 });
    }
    const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
    expect(mode(fresh)).toBe('700');
    expect(mode(join(fresh, 'store'))).toBe('700');
    expect(mode(join(fresh, 'store', 'data.mdb'))).toBe('600');
    expect(mode(join(fresh, 'store', 'lock.mdb'))).toBe('600');
  });
});

describe('fires skipped by the overlap policy', () => {
  it('are skipped runs in history, with the reason, and count in stats and metrics', async () => {
    const { s, clock } = await open(T0);
    await s.addJob({ name: 'long', schedule: 'every 10s', command: 'sleep 30' });
    await clock.advance(10_000); // first fire: runs
    await clock.advance(10_000); // second fire: the first still runs -> skipped
    const history = await s.history('long');
    expect(history.map((r) => [r.status, r.scheduledAt])).toEqual([
      ['skipped', new Date(T0 + 20_000).toISOString()],
      ['running', new Date(T0 + 10_000).toISOString()],
    ]);
    expect(history[0]).toMatchObject({ trigger: 'schedule', startedAt: null, error: expect.stringMatching(/still running|overlap/) });
    expect((await s.stats()).runs.skipped).toBe(1);
    expect(await s.metrics()).toMatch(/rae_runs_total\{job="long",status="skipped"\} 1/);
    const why = await s.why('long');
    expect(why.slots.map((sl) => [sl.outcome, sl.runId])).toEqual([['skipped', history[0]!.id], ['fired', history[1]!.id]]);
  });
});

describe('run times (docs/jobs.md "Run times")', () => {
  it('durationMs is the process\'s own time, within finishedAt − startedAt on the real clock', async () => {
    const s = await createScheduler({ dataDir: join(dir(), 'real-clock') });
    try {
      await s.addJob({ name: 'nap', schedule: 'never', command: 'sleep 0.2' });
      const run = await s.waitForRun((await s.runNow('nap')).id);
      expect(run.status).toBe('succeeded');
      const between = Date.parse(run.finishedAt!) - Date.parse(run.startedAt!);
      expect(run.durationMs).toBeGreaterThanOrEqual(200);
      expect(run.durationMs).toBeLessThanOrEqual(between);
    } finally {
      await s.shutdown({ graceMs: 0 });
    }
  });
});

describe('a manual run of a job whose overlap-skip run is in progress', () => {
  it('runs anyway (a person asked for it; docs/cli.md "run")', async () => {
    const { s, clock } = await open(T0);
    await s.addJob({ name: 'long', schedule: 'every 10s', command: 'sleep 30' });
    await clock.advance(10_000);
    const manual = await s.runNow('long');
    const history = await s.history('long');
    expect(history.map((r) => [r.trigger, r.status])).toEqual([['manual', 'running'], ['schedule', 'running']]);
    expect(history[0]!.id).toBe(manual.id);
  });
});

describe('process metrics', () => {
  it('are in metrics() with processMetrics (the daemon), and not without', async () => {
    const { s } = await open(T0, { processMetrics: true });
    const text = await s.metrics();
    for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'process_cpu_seconds_total', 'nodejs_active_handles_total']) {
      expect(text).toContain(`# TYPE ${name}`);
    }
    expect(text).toContain('rae_runs_total');
    const plain = await createScheduler({ dataDir: join(dir(), 'plain'), mode: 'offline' });
    try {
      expect(await plain.metrics()).not.toContain('process_cpu_seconds_total');
    } finally {
      await plain.shutdown({ graceMs: 0 });
    }
  });
});

describe('why of a job whose --after upstream is gone', () => {
  it('says that trigger can never fire', async () => {
    const { s } = await open(T0);
    await s.addJob({ name: 'up', schedule: 'never', command: 'true' });
    await s.addJob({ name: 'down', schedule: 'never', command: 'true', triggers: [{ type: 'after', job: 'up', on: 'succeeded' }] });
    expect((await s.why('down')).blockers.some((b) => b.includes("--after 'up'"))).toBe(false);
    await s.removeJob('up');
    expect((await s.why('down')).blockers).toContain("--after 'up': no such job any more (removed or renamed): that trigger can never fire");
  });
});
