/**
 * Issue 11, at the library: `getJob` (status) and `why` of a trigger job list each trigger with its
 * last fire and the runs it caused (a record written on the fire path); an `--after` upstream that
 * no longer exists shows in `health` (degraded) and in the dependent's status/why; a one-time
 * schedule keeps the words typed beside the instant. Real threads, LMDB, processes and watcher.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from '../../src/model/job';
import type { TriggerStatus } from '../../src/model/trigger-status';
import type { Scheduler } from '../../src/index';
import { eventually } from '../cli/harness';
import { useSchedulers } from '../helpers/scheduler';

jest.setTimeout(60_000);

const T0 = Date.parse('2030-01-01T00:00:00Z');
const { dir, open } = useSchedulers();

/** The job's trigger statuses once `ok` holds (the fire record is written just after the fire). */
async function statusOnce(s: Scheduler, job: string, ok: (t: TriggerStatus[]) => boolean): Promise<TriggerStatus[]> {
  return eventually(async () => {
    const t = (await s.getJob(job)).triggerStatus ?? [];
    return ok(t) ? t : undefined;
  }, `trigger status of ${job}`);
}

describe('status and why of a trigger job', () => {
  it('--after: each fire is recorded with its run; a fire skipped by the overlap policy is counted as skipped', async () => {
    const { s, runs } = await open(T0);
    await s.addJob({ name: 'up', schedule: 'never', command: 'true' });
    await s.addJob({ name: 'dep', schedule: 'never', command: 'sleep 30', triggers: [{ type: 'after', job: 'up', on: 'succeeded' }] });
    const before = await s.getJob('dep');
    expect(before.triggerStatus).toEqual([expect.objectContaining({
      index: 0, text: 'after up succeeded', lastFiredAt: null, fires: 0, runs: 0, skipped: 0, recentRunIds: [], upstreamExists: true,
    })]);
    const first = await s.runNow('up');
    await runs.wait(1);
    const [t1] = await statusOnce(s, 'dep', (t) => t[0]?.fires === 1);
    const depRun = (await s.history('dep'))[0]!;
    expect(depRun.trigger).toBe('dependency');
    expect(t1).toMatchObject({ runs: 1, skipped: 0, lastRunId: depRun.id, recentRunIds: [depRun.id], lastReason: `after up succeeded (${first.id})` });
    // dep is still running (sleep 30) and overlap is `skip`: the next fire is skipped, and counted so.
    await s.runNow('up');
    const [t2] = await statusOnce(s, 'dep', (t) => t[0]?.fires === 2);
    expect(t2).toMatchObject({ runs: 1, skipped: 1, recentRunIds: [depRun.id] });
    const why = await s.why('dep');
    expect(why.triggers).toEqual(why.job.triggerStatus);
    expect(why.triggers[0]).toMatchObject({ fires: 2, skipped: 1 });
    // listJobs stays lean: no per-trigger reads for every job.
    expect((await s.listJobs()).every((j) => j.triggerStatus === undefined)).toBe(true);
  });

  it('@reboot: the start-up fire is recorded', async () => {
    const first = await open(T0);
    await first.s.addJob({ name: 'rb', schedule: '@reboot', command: 'true' });
    expect((await first.s.why('rb')).triggers).toEqual([expect.objectContaining({ index: null, trigger: null, text: '@reboot', fires: 0 })]);
    await first.s.shutdown({ graceMs: 0 });
    const { s, runs } = await open(T0 + 60_000);
    const [run] = await runs.wait(1);
    const [t] = await statusOnce(s, 'rb', (x) => x[0]?.fires === 1);
    expect(t).toMatchObject({ text: '@reboot', lastRunId: run!.id, lastFiredAt: new Date(T0 + 60_000).toISOString() });
  });

  it('watch: the fire that a file change caused is recorded on the watch trigger, with its reason', async () => {
    const { s, runs, clock } = await open(Date.now());
    const watched = join(dir(), 'inbox');
    mkdirSync(watched);
    await s.addJob({
      name: 'ingest', schedule: 'never', command: 'true',
      triggers: [{ type: 'when', condition: 'load > 100000' }, { type: 'watch', paths: [watched], debounceMs: 50 }],
    });
    writeFileSync(join(watched, 'a.csv'), 'x');
    // The debounce runs on the virtual clock: move it on while the watcher's event comes in.
    const [run] = await eventually(async () => {
      await clock.advance(100);
      return runs.runs.length > 0 ? runs.runs : undefined;
    }, 'the watch to fire a run');
    // The watcher may report the write as two events (create, then update) that land in two
    // debounce windows on a loaded machine: then the watch fired twice, and each fire is counted —
    // as a run, or as skipped by the overlap policy if the first run was still going. Wait until
    // every fire's run has finished (the collector sees skipped runs too).
    const t = await statusOnce(s, 'ingest', (x) => (x[1]?.fires ?? 0) >= 1 && x[1]!.fires === runs.runs.length);
    expect(t[0]).toMatchObject({ text: 'when load > 100000', fires: 0 });
    expect(t[1]).toMatchObject({ text: `watch ${watched}`, fires: runs.runs.length });
    expect(t[1]!.runs + t[1]!.skipped).toBe(runs.runs.length);
    expect(runs.runs.map((r) => r.id)).toContain(t[1]!.lastRunId);
    expect(run!.trigger).toBe('event');
    expect(t[1]!.lastReason).toMatch(/^watch: .*a\.csv changed/);
  });

  it('removing the job removes its trigger records', async () => {
    const { s, runs } = await open(T0);
    await s.addJob({ name: 'up', schedule: 'never', command: 'true' });
    await s.addJob({ name: 'dep', schedule: 'never', command: 'true', triggers: [{ type: 'after', job: 'up', on: 'finished' }] });
    await s.runNow('up');
    await runs.wait(2);
    await statusOnce(s, 'dep', (t) => t[0]?.fires === 1);
    await s.removeJob('dep');
    await s.addJob({ name: 'dep', schedule: 'never', command: 'true', triggers: [{ type: 'after', job: 'up', on: 'finished' }] });
    expect((await s.getJob('dep')).triggerStatus![0]!.fires).toBe(0);
  });
});

describe('an --after upstream that no longer exists', () => {
  it('is a degraded `dependencies` component in health and is named in the dependent\'s status and why', async () => {
    const { s } = await open(T0);
    await s.addJob({ name: 'up', schedule: 'never', command: 'true' });
    await s.addJob({ name: 'dep', schedule: 'never', command: 'true', triggers: [{ type: 'after', job: 'up', on: 'succeeded' }] });
    expect((await s.health()).components.dependencies).toBeUndefined();
    await s.removeJob('up');
    const health = await s.health();
    // The scheduler works: degraded, not unhealthy.
    expect(health.healthy).toBe(true);
    expect(health.components.dependencies).toEqual({
      healthy: true, degraded: true,
      detail: "1 job waits on a job that no longer exists (never fires): dep --after 'up'",
    });
    // The dependent is kept, flagged.
    const dep = await s.getJob('dep');
    expect(dep.triggers).toEqual([{ type: 'after', job: 'up', on: 'succeeded' }]);
    expect(dep.triggerStatus![0]!.upstreamExists).toBe(false);
    expect((await s.why('dep')).blockers).toContain("--after 'up': no such job any more (removed or renamed): that trigger can never fire");
    // A job added again under the name is the upstream again.
    await s.addJob({ name: 'up', schedule: 'never', command: 'true' });
    expect((await s.health()).components.dependencies).toBeUndefined();
    expect((await s.getJob('dep')).triggerStatus![0]!.upstreamExists).toBe(true);
  });

  it('restored away: a backup without the upstream leaves the dependent flagged after the restore', async () => {
    const { s } = await open(T0);
    await s.addJob({ name: 'up', schedule: 'never', command: 'true' });
    await s.addJob({ name: 'dep', schedule: 'never', command: 'true', triggers: [{ type: 'after', job: 'up', on: 'succeeded' }] });
    const doc = await s.backup();
    await s.restore({ ...doc, jobs: doc.jobs.filter((j: Job) => j.name !== 'up') });
    expect((await s.health()).components.dependencies?.detail).toContain("dep --after 'up'");
  });
});

describe('a one-time schedule typed in words', () => {
  it('keeps the words beside the instant, through backup and restore; a job stored without them still loads', async () => {
    const { s } = await open(T0);
    const job = await s.addJob({ name: 'soon', schedule: 'in 10 minutes', command: 'true' });
    expect(job.schedule).toBe('at 2030-01-01T00:10:00.000Z');
    expect(job.scheduleText).toBe('in 10 minutes');
    const cron = await s.addJob({ name: 'cron', schedule: '*/5 * * * *', command: 'true' });
    expect(cron.scheduleText).toBeNull();
    const doc = await s.backup();
    await s.restore(doc);
    expect((await s.getJob('soon')).scheduleText).toBe('in 10 minutes');
    // A store from before the field: its jobs have none.
    const old = doc.jobs.map((j: Job) => {
      const { scheduleText: _, ...rest } = j;
      return rest;
    });
    await s.restore({ ...doc, jobs: old });
    const loaded = await s.getJob('soon');
    expect(loaded.scheduleText).toBeUndefined();
    expect(loaded.schedule).toBe('at 2030-01-01T00:10:00.000Z');
  });
});
