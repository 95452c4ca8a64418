/** Health, stats and metrics of the whole scheduler, and history retention. */
import { useSchedulers } from '../helpers/scheduler';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

describe('observability and retention', () => {
  const fixture = useSchedulers();
  const open = (opts: { historyPerJob?: number } = {}): ReturnType<typeof fixture.open> => fixture.open(T0, opts);

  it('reports every component healthy, and stats and metrics that count runs — across a restart', async () => {
    const a = await open();
    await a.s.addJob({ name: 'ok', schedule: 'never', command: 'true' });
    await a.s.addJob({ name: 'bad', schedule: 'never', command: 'exit 2' });
    await a.s.runNow('ok');
    await a.s.runNow('bad');
    await a.runs.wait(2);
    const health = await a.s.health();
    expect(health.healthy).toBe(true);
    expect(Object.keys(health.components).sort()).toEqual(expect.arrayContaining(['executor', 'parser', 'persistence', 'queue', 'scheduler']));
    const stats = await a.s.stats();
    expect(stats.runs).toMatchObject({ total: 2, succeeded: 1, failed: 1, successRate: 0.5 });
    expect(stats.jobs).toMatchObject({ total: 2, enabled: 2 });
    const metrics = await a.s.metrics();
    expect(metrics).toMatch(/^rae_runs_total\{job="ok",status="succeeded"\} 1$/m);
    expect(metrics).toMatch(/^rae_runs_total\{job="bad",status="failed"\} 1$/m);
    await a.s.shutdown();
    const b = await open();
    const again = await b.s.stats();
    expect(again.runs).toMatchObject({ total: 2, succeeded: 1, failed: 1 });
    expect(again.durationMs.p50).not.toBeNull();
  });

  it('prunes history to the newest runs per job, hourly', async () => {
    const { s, clock, runs } = await open({ historyPerJob: 3 });
    await s.addJob({ name: 'many', schedule: 'never', command: 'true' });
    for (let i = 1; i <= 5; i++) {
      await s.runNow('many');
      await runs.wait(i);
    }
    expect(await s.history('many', { limit: 100 })).toHaveLength(5);
    await clock.advance(3_600_000);
    const kept = await s.history('many', { limit: 100 });
    expect(kept.map((r) => r.id)).toEqual(runs.runs.slice(2).map((r) => r.id).reverse());
  });
});
