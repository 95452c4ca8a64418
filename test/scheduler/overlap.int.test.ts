/**
 * Overlap `skip` holds on every path a run can take (issue 9 item 6): retries, catch-up, runs
 * re-queued and interrupted at a restart. The invariant, checked from the run events: never more
 * runs of a job executing at once than its policy allows (one for `skip`).
 */
import { Store } from '../../src/actors/persistence/store';
import { newId } from '../../src/model/ids';
import type { Run } from '../../src/model/run';
import { Ledger } from '../helpers/ledger';
import { useSchedulers } from '../helpers/scheduler';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function storedRun(jobId: string, over: Partial<Run>): Run {
  return {
    id: newId('run', T0), jobId, attempt: 1, trigger: 'schedule', status: 'running', exitCode: null, signal: null,
    scheduledAt: new Date(T0).toISOString(), startedAt: new Date(T0).toISOString(), finishedAt: null,
    durationMs: null, peakMemoryBytes: null, error: null, output: '', ...over,
  };
}

describe('overlap skip on every path', () => {
  const fixture = useSchedulers();

  it('a retry never runs beside a scheduled run of the same job', async () => {
    const { s, clock } = await fixture.open(T0, { maxConcurrentJobs: 8 });
    const ledger = new Ledger(s);
    const job = await s.addJob({
      name: 'flaky', schedule: 'every 3s', command: 'sleep 0.4; false', overlap: 'skip',
      retry: { maxRetries: 3, backoffMs: 2000 },
    });
    // Virtual time runs faster than the runs do: retries fall due while scheduled runs still run.
    for (let i = 0; i < 40; i++) {
      await clock.advance(500);
      await pause(60);
    }
    await ledger.quiet(() => clock.now());
    expect(ledger.finished.size).toBeGreaterThan(3);
    expect([...ledger.finished.values()].some((r) => r.trigger === 'retry')).toBe(true);
    // By the runs' recorded times (by event order a next run may start before the previous run's
    // final record is durable and its run.finished published: its process had already ended).
    expect(ledger.mostAtOnce(job.id)).toBe(1);
    ledger.stop();
  }, 90_000);

  it('after a crash: the interrupted run\'s retry, the re-queued run and the catch-up run take turns', async () => {
    const a = await fixture.open(T0);
    const job = await a.s.addJob({
      name: 'ov', schedule: 'every 2s', command: 'sleep 0.3', overlap: 'skip', catchUp: 'once',
      retry: { maxRetries: 1, backoffMs: 1000 },
    });
    await a.s.shutdown();
    // What a crash leaves: a run that was executing, and a run that waited, parked unstarted.
    const store = await Store.open({ dataDir: fixture.dir() });
    const running = storedRun(job.id, { trigger: 'schedule' });
    const waiting = storedRun(job.id, { id: newId('run', T0 + 1), trigger: 'manual', status: 'queued', startedAt: null });
    await store.putRun(running);
    await store.commitBatch({ fires: [], runs: [waiting], states: [], parked: [waiting.id] });
    await store.close();

    const b = await fixture.open(T0 + 10_000, { maxConcurrentJobs: 8 });
    const ledger = new Ledger(b.s);
    for (let i = 0; i < 30; i++) {
      await b.clock.advance(250);
      await pause(40);
    }
    await ledger.quiet(() => b.clock.now());
    // The retry was queued during start-up, before the ledger subscribed: wait for it by its record.
    const done = async () => (await b.s.history('ov', { limit: 100 })).some((r) => r.trigger === 'retry' && r.status === 'succeeded');
    for (let i = 0; i < 200 && !(await done()); i++) {
      await b.clock.advance(250);
      await pause(50);
    }
    await ledger.quiet(() => b.clock.now());
    const history = await b.s.history('ov', { limit: 100 });
    expect(history.find((r) => r.id === running.id)?.status).toBe('interrupted');
    // The retry of the interrupted run, the parked run and the catch-up run all ran, one at a time.
    expect(history.some((r) => r.trigger === 'retry' && r.status === 'succeeded')).toBe(true);
    expect(history.find((r) => r.id === waiting.id)?.status).toBe('succeeded');
    expect(history.some((r) => r.trigger === 'catch-up' && r.status === 'succeeded')).toBe(true);
    // By the runs' recorded times (by event order a next run may start before the previous run's
    // final record is durable and its run.finished published: its process had already ended).
    expect(ledger.mostAtOnce(job.id)).toBe(1);
    ledger.stop();
  }, 90_000);
});
