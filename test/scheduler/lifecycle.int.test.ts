/**
 * The library end to end: real parser and persistence threads, real LMDB, real child processes,
 * schedules driven by a virtual clock.
 */
import { createScheduler, type Scheduler } from '../../src/index';
import { VirtualClock } from '../../src/testing';
import { RunCollector, removeDir, tempDir } from '../helpers/scheduler';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

describe('scheduler lifecycle (virtual clock, real threads and processes)', () => {
  let dir: string;
  let clock: VirtualClock;
  let s: Scheduler;

  beforeEach(async () => {
    dir = tempDir();
    clock = new VirtualClock(T0);
    s = await createScheduler({ dataDir: dir, clock, maxConcurrentJobs: 4 });
  });
  afterEach(async () => {
    await s.shutdown({ graceMs: 0 });
    removeDir(dir);
  });

  it('adds, lists, pauses, resumes and removes jobs by id or name', async () => {
    const job = await s.addJob({ name: 'tick', schedule: 'every 10s', command: 'true' });
    expect(job.id).toMatch(/^job_/);
    expect(job.nextRunAt).toBe(new Date(T0 + 10_000).toISOString());
    expect(job.state).toBe('scheduled');
    expect((await s.listJobs()).map((j) => j.name)).toEqual(['tick']);
    expect((await s.getJob('tick')).id).toBe(job.id);
    const paused = await s.pauseJob(job.id);
    expect(paused.state).toBe('paused');
    expect(paused.nextRunAt).toBeNull();
    const resumed = await s.resumeJob('tick');
    expect(resumed.state).toBe('scheduled');
    await s.removeJob('tick');
    await expect(s.getJob('tick')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await s.listJobs()).toEqual([]);
  });

  it('refuses bad specs with a VALIDATION error and a taken name with CONFLICT, storing nothing', async () => {
    await expect(s.addJob({ name: 'x', schedule: '61 * * * *', command: 'true' })).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(s.addJob({ name: 'x', schedule: 'every banana', command: 'true' })).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(s.addJob({ name: 'x', schedule: '@daily', timezone: 'Mars/Olympus', command: 'true' }))
      .rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(s.addJob({ name: 'x', schedule: '@daily' } as never)).rejects.toMatchObject({ code: 'VALIDATION', field: 'command' });
    await expect(s.addJob({ name: 'x', schedule: '@daily', command: 'true', overlap: 'sometimes' } as never))
      .rejects.toMatchObject({ code: 'VALIDATION', field: 'overlap' });
    await expect(s.addJob({ name: 'x', schedule: 'at 2020-01-01T00:00:00Z', command: 'true' }))
      .rejects.toMatchObject({ code: 'VALIDATION', field: 'schedule' });
    await expect(s.addJob({ name: 'x', schedule: '@daily', command: 'true', cwd: `${dir}/nope` }))
      .rejects.toMatchObject({ code: 'VALIDATION', field: 'cwd' });
    await expect(s.addJob({ name: 'x', schedule: '@daily', module: `${dir}/nope.js` }))
      .rejects.toMatchObject({ code: 'VALIDATION', field: 'module' });
    expect(await s.listJobs()).toEqual([]);
    await s.addJob({ name: 'x', schedule: '@daily', command: 'true' });
    await expect(s.addJob({ name: 'x', schedule: '@hourly', command: 'true' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await s.listJobs()).length).toBe(1);
  });

  it('fires an interval job once per slot as virtual time passes, and records each run', async () => {
    const runs = new RunCollector(s.events$);
    const out = `${dir}/out`;
    await s.addJob({ name: 'tick', schedule: 'every 1s', command: `echo tick >> ${out}` });
    for (let i = 0; i < 3; i++) {
      await clock.advance(1000);
      await runs.wait(i + 1);
    }
    const history = await s.history('tick');
    expect(history).toHaveLength(3);
    expect(history.every((r) => r.status === 'succeeded' && r.trigger === 'schedule' && r.exitCode === 0)).toBe(true);
    expect(history.map((r) => r.scheduledAt).sort()).toEqual([1, 2, 3].map((k) => new Date(T0 + k * 1000).toISOString()));
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(out, 'utf8')).toBe('tick\ntick\ntick\n');
    runs.stop();
  });

  it('retries a failing run with backoff through the timeline, then gives up', async () => {
    const runs = new RunCollector(s.events$);
    const job = await s.addJob({ name: 'flaky', schedule: 'never', command: 'exit 3', retry: { maxRetries: 2, backoffMs: 1000 } });
    await s.runNow(job.id);
    await runs.wait(1);
    await clock.advance(1300); // first retry: 1s ± 20 %
    await runs.wait(2);
    await clock.advance(2500); // second retry: 2s ± 20 %
    const all = await runs.wait(3);
    expect(all.map((r) => [r.attempt, r.trigger, r.status, r.exitCode])).toEqual([
      [1, 'manual', 'failed', 3], [2, 'retry', 'failed', 3], [3, 'retry', 'failed', 3],
    ]);
    await clock.advance(60_000);
    expect(await s.history('flaky')).toHaveLength(3);
    runs.stop();
  });

  it('skips slots that come while a run is still going (overlap skip) and records why', async () => {
    const runs = new RunCollector(s.events$);
    await s.addJob({ name: 'slow', schedule: 'every 1s', command: 'sleep 1.5' });
    await clock.advance(1000); // slot 1 starts a run
    await clock.advance(1000); // slot 2: still running → skipped
    await runs.wait(1);
    const why = await s.why('slow');
    const outcomes = why.slots.map((sl) => sl.outcome).sort();
    expect(outcomes).toEqual(['fired', 'skipped']);
    expect(why.slots.find((sl) => sl.outcome === 'skipped')!.reason).toMatch(/running/);
    runs.stop();
  });

  it('runs a one-time job once and marks it done, keeping its history', async () => {
    const runs = new RunCollector(s.events$);
    const job = await s.addJob({ name: 'once', schedule: 'in 10 minutes', command: 'true' });
    expect(job.schedule).toBe(`at ${new Date(T0 + 600_000).toISOString()}`);
    await clock.advance(600_000);
    await runs.wait(1);
    await clock.advance(3_600_000);
    const after = await s.getJob('once');
    expect(after.state).toBe('done');
    expect(after.nextRunAt).toBeNull();
    expect(await s.history('once')).toHaveLength(1);
    runs.stop();
  });

  it('runs a job when a file in a watched directory changes, and refuses a bad usage condition', async () => {
    const runs = new RunCollector(s.events$);
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(`${dir}/inbox`);
    await s.addJob({ name: 'on-file', schedule: 'never', command: 'true', triggers: [{ type: 'watch', paths: [`${dir}/inbox`] }] });
    writeFileSync(`${dir}/inbox/a.csv`, 'x');
    // The watcher's event arrives in real time; its debounce runs on the virtual clock. Step the
    // clock past the debounce until the run shows up (bounded), yielding real time between steps.
    // Under load the create and the write can arrive as two debounced events: the second fire is then
    // a `skipped` run (overlap skip) that may finish first. Wait for the run that executed.
    const executed = () => runs.runs.filter((r) => r.status !== 'skipped');
    for (let i = 0; i < 200 && executed().length === 0; i++) {
      await clock.advance(600);
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(executed()[0]).toMatchObject({ trigger: 'event', status: 'succeeded' });
    for (const r of runs.runs) expect(r).toMatchObject({ trigger: 'event', status: expect.stringMatching(/^(succeeded|skipped)$/) });
    await expect(s.addJob({ name: 'bad-when', schedule: 'never', command: 'true', triggers: [{ type: 'when', condition: 'cpu is sad' }] }))
      .rejects.toMatchObject({ code: 'VALIDATION', field: 'when' });
    expect((await s.health()).components.watches).toMatchObject({ healthy: true, detail: '1 watched paths, 0 usage conditions' });
    runs.stop();
  });

  it('runs a job when the job it depends on succeeds (--after)', async () => {
    const runs = new RunCollector(s.events$);
    await s.addJob({ name: 'first', schedule: 'never', command: 'true' });
    await s.addJob({ name: 'second', schedule: 'never', command: 'true', triggers: [{ type: 'after', job: 'first', on: 'succeeded' }] });
    await s.runNow('first');
    const [a, b] = await runs.wait(2);
    expect(a!.trigger).toBe('manual');
    expect(b!.trigger).toBe('dependency');
    expect((await s.getJob('second')).lastRun?.status).toBe('succeeded');
    // Re-adding 'first' after 'second' would close a loop that runs forever: refused.
    await s.removeJob('first');
    await expect(s.addJob({ name: 'first', schedule: 'never', command: 'true', triggers: [{ type: 'after', job: 'second', on: 'finished' }] }))
      .rejects.toMatchObject({ code: 'VALIDATION', field: 'after' });
    runs.stop();
  });
});
