/**
 * After a crash that left thousands of runs in flight (or a long outage), start-up records them
 * `interrupted` and retries them by policy. The retries come back as a burst: every one is owed to
 * the user (its run was accepted), so none may be dropped as "ready queue full"; they wait their
 * turn in bounded commits, never more than `maxConcurrentJobs` at once nor more than
 * `maxQueuedJobs` in the ready queue. Real store, real threads, real processes, virtual clock.
 */
import { Store } from '../../src/actors/persistence/store';
import { newId } from '../../src/model/ids';
import type { Run } from '../../src/model/run';
import { testHooksOf } from '../../src/scheduler';
import { MAX_BATCH_RECORDS } from '../../src/actors/scheduler/committer';
import { useSchedulers } from '../helpers/scheduler';
import { until } from '../helpers/until';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const MIN = 60_000;
const JOBS = 2000;
const LIMITS = { maxConcurrentJobs: 4, maxQueuedJobs: 100 };

describe('retries of a crash with thousands of runs in flight', () => {
  const fixture = useSchedulers();

  it(`${JOBS} interrupted runs: each retried once, none dropped, within the concurrency and queue limits`, async () => {
    const a = await fixture.open(T0, LIMITS);
    const jobs = await Promise.all(Array.from({ length: JOBS }, (_, i) =>
      a.s.addJob({ name: `j${i}`, schedule: 'never', command: 'true', retry: { maxRetries: 1, backoffMs: 1000 } })));
    await a.s.shutdown();
    // What a crash leaves behind: a run stored `running` per job, that no process will finish.
    const store = await Store.open({ dataDir: fixture.dir() });
    const at = new Date(T0).toISOString();
    const crashed: Run[] = jobs.map((job) => ({
      id: newId('run', T0), jobId: job.id, attempt: 1, trigger: 'schedule', status: 'running', exitCode: null, signal: null,
      scheduledAt: at, startedAt: at, finishedAt: null, durationMs: null, peakMemoryBytes: null, error: null, output: '',
    }));
    await store.commitBatch({ fires: [], runs: crashed, states: [] });
    await store.close();

    const { s, clock, runs } = await fixture.open(T0 + MIN, LIMITS);
    // What the scheduler holds, sampled all along: runs executing, runs in the ready queue.
    let mostRunning = 0;
    let mostReady = 0;
    let samples = 0;
    const hooks = testHooksOf(s);
    // One `stats` at a time, 25 ms apart: a flood of asks would load the monitor (its own thread
    // in the threads placement) more than the burst does.
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const st = await s.stats();
        samples++;
        mostReady = Math.max(mostReady, st.queue.depth);
        mostRunning = Math.max(mostRunning, st.queue.running);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    try {
      // Start-up (before createScheduler resolved) recorded every run interrupted, with its retry
      // queued one backoff later.
      await until('every crashed run recorded', () => s.stats(), (st) => st.runs.interrupted === JOBS, 120_000);
      await clock.advance(1500); // every retry's backoff (≤ 1 s) elapsed
      const all = await runs.wait(JOBS, 300_000);
      const retries = all.filter((r) => r.trigger === 'retry');
      expect(retries).toHaveLength(JOBS);
      const byStatus: Record<string, number> = {};
      for (const r of retries) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
      // Every retry ran: none turned into a `skipped` run by the full ready queue.
      expect(byStatus).toEqual({ succeeded: JOBS });
      expect(new Set(retries.map((r) => r.jobId)).size).toBe(JOBS);
      expect(samples).toBeGreaterThan(0);
      expect(mostRunning).toBeLessThanOrEqual(LIMITS.maxConcurrentJobs);
      expect(mostReady).toBeLessThanOrEqual(LIMITS.maxQueuedJobs);
      // The burst went out in bounded commits (one `add` is never split: a final record and its retry).
      const stats = await hooks.commitStats();
      expect(stats.largest).toBeLessThanOrEqual(MAX_BATCH_RECORDS + 2);
      expect(stats.failures).toBe(0);
    } finally {
      sampling = false;
      await sampler;
    }
  }, 420_000);
});
