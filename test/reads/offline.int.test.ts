/**
 * The CLI without a daemon reads the store directly (no actor system): what it shows for a store
 * written by a real scheduler, through the real binary and in-process.
 */
import { useSchedulers } from '../helpers/scheduler';
import { openBackend } from '../../src/cli/backend';
import { DirectScheduler } from '../../src/cli/direct';
import { expectUsageError, rae } from '../cli/harness';
import type { Job } from '../../src/model/job';
import type { Run } from '../../src/model/run';
import type { Stats } from '../../src/api';

const T0 = Date.now() - 3_600_000;

describe('offline reads (no daemon)', () => {
  const fixture = useSchedulers();

  /** A store with history, written by a real scheduler on a virtual clock, then shut down. */
  async function written(): Promise<Run[]> {
    const { s, clock, runs } = await fixture.open(T0);
    await s.addJob({ name: 'tick', schedule: 'every 1m', command: 'true' });
    await s.addJob({ name: 'bad', schedule: 'never', command: 'echo broken; exit 4' });
    await s.addJob({ name: 'idle', schedule: 'every 1m', command: 'true', enabled: false });
    await clock.advance(60_000);
    await runs.wait(1);
    await clock.advance(60_000);
    await runs.wait(2);
    await s.runNow('bad');
    const all = await runs.wait(3);
    await s.shutdown();
    return all;
  }

  it('list, status, history, why and stats answer from the store the scheduler wrote', async () => {
    const runs = await written();
    const dir = fixture.dir();
    const backend = await openBackend(dir);
    try {
      // No daemon answers: the store itself, with no actor system behind it.
      expect(backend.remote).toBe(false);
      expect(backend.scheduler).toBeInstanceOf(DirectScheduler);
      const jobs = await backend.scheduler.listJobs();
      expect(jobs.map((j) => [j.name, j.state])).toEqual([['tick', 'scheduled'], ['bad', 'waiting'], ['idle', 'paused']]);
      const tick = jobs[0]!;
      expect(tick.lastRun?.id).toBe(runs.filter((r) => r.jobId === tick.id).at(-1)!.id);
      expect(Date.parse(tick.nextRunAt!)).toBeGreaterThan(Date.now() - 1000);
    } finally {
      await backend.close();
    }

    const list = await rae(['list', '--json', '--data-dir', dir]);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as Job[]).map((j) => j.name)).toEqual(['tick', 'bad', 'idle']);

    const status = await rae(['status', 'bad', '--json', '--data-dir', dir]);
    const bad = JSON.parse(status.stdout) as Job;
    expect(bad.lastRun).toMatchObject({ status: 'failed', exitCode: 4 });

    const history = await rae(['history', 'tick', '--json', '--data-dir', dir]);
    const ticks = JSON.parse(history.stdout) as Run[];
    expect(ticks.map((r) => r.id)).toEqual(runs.filter((r) => r.jobId === tick(runs)).map((r) => r.id).reverse());
    expect(ticks.every((r) => r.status === 'succeeded' && r.trigger === 'schedule')).toBe(true);

    const why = await rae(['why', 'tick', '--data-dir', dir]);
    expect(why.stdout).toContain('no daemon is running on this data directory');
    expect(why.stdout).toMatch(/fired/);

    const stats = JSON.parse((await rae(['stats', '--json', '--data-dir', dir])).stdout) as Stats;
    expect(stats.jobs).toEqual({ total: 3, enabled: 2, paused: 1, done: 0 });
    expect(stats.runs).toMatchObject({ total: 3, succeeded: 2, failed: 1 });
    expect(stats.durationMs.max).toBe(Math.max(...runs.map((r) => r.durationMs!)));
  }, 120_000);

  it('writes through the same checks as the scheduler: bad specs and names refused, nothing stored', async () => {
    await written();
    const dir = fixture.dir();
    expectUsageError(await rae(['add', 'x', 'every 61 minutes please', 'true', '--data-dir', dir]), 'schedule');
    expectUsageError(await rae(['add', 'y', 'every 1m', 'true', '--after', 'nope', '--data-dir', dir]), "'nope'");
    expectUsageError(await rae(['add', 'z', 'every 1m', 'true', '--when', 'cpu sideways', '--data-dir', dir]), 'cpu');
    const dup = await rae(['add', 'tick', 'every 1m', 'true', '--data-dir', dir]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/^rae-sched: error: .*already exists/);
    const names = (JSON.parse((await rae(['list', '--json', '--data-dir', dir])).stdout) as Job[]).map((j) => j.name);
    expect(names).toEqual(['tick', 'bad', 'idle']);
  }, 120_000);

  it('pause, resume, add and remove offline are what a daemon then sees', async () => {
    await written();
    const dir = fixture.dir();
    expect((await rae(['add', 'later', 'every 5m', 'true', '--after', 'tick', '--data-dir', dir])).code).toBe(0);
    expect((await rae(['pause', 'tick', '--data-dir', dir])).code).toBe(0);
    expect((await rae(['resume', 'idle', '--data-dir', dir])).code).toBe(0);
    expect((await rae(['remove', 'bad', '--data-dir', dir])).code).toBe(0);
    const { s } = await fixture.open(Date.now());
    const jobs = await s.listJobs();
    expect(jobs.map((j) => [j.name, j.state])).toEqual([['tick', 'paused'], ['idle', 'scheduled'], ['later', 'scheduled']]);
    expect(jobs[2]!.triggers).toEqual([{ type: 'after', job: 'tick', on: 'succeeded' }]);
    // Resumed while no daemon ran: the slots while paused are not caught up at start-up.
    expect(await s.history('idle')).toEqual([]);
  }, 120_000);
});

function tick(runs: Run[]): string {
  return runs[0]!.jobId;
}
