/**
 * Batching of the run path (issue 7): concurrent `runNow` and `addJob` callers share one scheduler
 * message and one store commit, and group commits are pipelined. A batch that partly fails refuses
 * only its bad items; a commit that fails, or a persistence thread that dies, in the middle of a
 * batch loses no run: every `waitForRun` resolves, with the status that is on disk. Real threads,
 * real LMDB, a real module job in a worker thread; the commit pipeline runs on the real clock.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Store } from '../../src/actors/persistence/store';
import type { InjectedFault } from '../../src/actors/persistence/port';
import { createScheduler, testHooksOf } from '../../src/scheduler';
import type { Job } from '../../src/model/job';
import { removeDir, tempDir } from '../helpers/scheduler';

const RUNS = 300;

describe('batches on the run path', () => {
  let dir: string;
  let mod: string;
  beforeEach(() => {
    dir = tempDir('rae-batches-');
    mkdirSync(path.join(dir, 'jobs'));
    mod = path.join(dir, 'jobs', 'noop.js');
    writeFileSync(mod, 'module.exports = async () => {};\n');
  });
  afterEach(() => removeDir(dir));

  const open = () => createScheduler({ dataDir: path.join(dir, 'data'), maxConcurrentJobs: 64, maxQueuedJobs: 10_000 });

  it('concurrent runNow of known and unknown jobs: only the unknown ones are refused, the rest run once each', async () => {
    const s = await open();
    try {
      await s.addJob({ name: 'noop', schedule: 'never', module: mod, isolation: 'thread', overlap: 'allow' });
      const asks = Array.from({ length: 50 }, (_, i) => (i % 10 === 3 ? s.runNow('missing') : s.runNow('noop')));
      const settled = await Promise.allSettled(asks);
      const refused = settled.filter((r) => r.status === 'rejected');
      expect(refused).toHaveLength(5);
      for (const r of refused) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'NOT_FOUND' });
      const runs = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      expect(new Set(runs.map((r) => r.id)).size).toBe(45);
      const done = await Promise.all(runs.map((r) => s.waitForRun(r.id)));
      expect(done.every((r) => r.status === 'succeeded')).toBe(true);
      expect((await s.history('noop', { limit: 100 })).length).toBe(45);
    } finally {
      await s.shutdown({ graceMs: 0 });
    }
  }, 60_000);

  it('concurrent addJob: a bad spec and a taken name refuse only themselves; the rest are stored in shared commits', async () => {
    const s = await open();
    try {
      await s.addJob({ name: 'taken', schedule: 'every 1h', command: 'true' });
      const specs = Array.from({ length: 40 }, (_, i) => ({ name: `a${i}`, schedule: i % 2 === 0 ? 'every 1h' : `every ${i + 2} minutes`, command: 'true' }));
      const asks = [
        ...specs.map((spec) => s.addJob(spec)),
        s.addJob({ name: 'bad', schedule: 'every banana', command: 'true' }),
        s.addJob({ name: 'taken', schedule: 'every 1h', command: 'true' }),
        s.addJob({ name: 'dup', schedule: 'every 1h', command: 'true' }),
        s.addJob({ name: 'dup', schedule: 'every 1h', command: 'true' }),
      ];
      const settled = await Promise.allSettled(asks);
      expect(settled.slice(0, 40).every((r) => r.status === 'fulfilled')).toBe(true);
      expect(settled[40]).toMatchObject({ status: 'rejected', reason: { code: 'VALIDATION' } });
      expect(settled[41]).toMatchObject({ status: 'rejected', reason: { code: 'CONFLICT' } });
      // Two adds of one new name in the same batch: exactly one wins.
      expect(settled.slice(42).map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const names = (await s.listJobs()).map((j) => j.name);
      expect(names.length).toBe(1 + 40 + 1);
      for (const spec of specs) expect(names).toContain(spec.name);
    } finally {
      await s.shutdown({ graceMs: 0 });
    }
  }, 60_000);

  it.each([
    ['a failing finish commit', [{ mode: 'fail', times: 2, when: 'finishes' }]],
    ['a failing queued-run commit', [{ mode: 'fail', times: 2, when: 'any' }]],
    ['the persistence thread dying before it writes a batch', [{ mode: 'die', when: 'finishes' }]],
    ['the persistence thread dying after a commit, before it answers', [{ mode: 'exit', when: 'finishes' }]],
  ] as Array<[string, InjectedFault[]]>)(`%s in the middle of ${RUNS} batched runs: no run lost, every waitForRun resolves with the durable status`, async (_what, faults) => {
    const s = await open();
    let closed = false;
    try {
      await s.addJob({ name: 'noop', schedule: 'never', module: mod, isolation: 'thread', overlap: 'allow' });
      // Warm: threads up, first commits done.
      await Promise.all(Array.from({ length: 20 }, async () => s.waitForRun((await s.runNow('noop')).id)));
      const hooks = testHooksOf(s);
      for (const f of faults) await hooks.storeFault(f);
      const runs = await Promise.all(Array.from({ length: RUNS }, () => s.runNow('noop').catch(() => null)));
      const accepted = runs.filter((r) => r !== null);
      // A refused runNow (its commit could not be made) is the caller's to see; most get through.
      expect(accepted.length).toBeGreaterThan(0);
      const finished = await Promise.all(accepted.map((r) => s.waitForRun(r!.id)));
      const stats = await hooks.commitStats();
      expect(stats.failures).toBeGreaterThan(0);
      await s.shutdown({ graceMs: 5000 });
      closed = true;
      // What every waiter was told is what is on disk, and nothing is left unfinished.
      const store = await Store.open({ dataDir: path.join(dir, 'data') });
      try {
        const job = store.listJobs().find((j: Job) => j.name === 'noop')!;
        for (const r of finished) {
          expect(r.status).toBe('succeeded');
          expect(store.getRun(r.id)).toMatchObject({ status: r.status, finishedAt: r.finishedAt });
        }
        expect(store.listUnfinishedRuns()).toEqual([]);
        expect(store.listRuns(job.id, 10_000).length).toBeGreaterThanOrEqual(accepted.length + 20);
      } finally {
        await store.close();
      }
    } finally {
      if (!closed) await s.shutdown({ graceMs: 0 });
    }
  }, 120_000);

  it('the store refuses a taken name inside a batch of inserts alone', async () => {
    const store = await Store.open({ dataDir: path.join(dir, 'data') });
    try {
      const at = new Date().toISOString();
      const job = (id: string, name: string): Job => ({
        id, name, schedule: 'every 1 hour', timezone: null, command: 'true', module: null, enabled: true, priority: 0,
        retry: { maxRetries: 0, backoffMs: 0 }, limits: {}, overlap: 'skip', catchUp: 'once', cwd: null, env: {}, triggers: [],
        jitterMs: 0, createdAt: at, updatedAt: at, completedAt: null, nextRunAt: null, lastRun: null, state: 'scheduled',
      });
      const answers = await store.insertJobs([
        { job: job('job_00000000000000000000000a', 'one') },
        { job: job('job_00000000000000000000000b', 'one') },
        { job: job('job_00000000000000000000000c', 'two') },
      ]);
      expect(answers[0]).toBeNull();
      expect(answers[1]).toMatch(/a job named 'one' already exists/);
      expect(answers[2]).toBeNull();
      expect(store.listJobs().map((j) => j.name).sort()).toEqual(['one', 'two']);
    } finally {
      await store.close();
    }
  });
});
