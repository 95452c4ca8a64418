/**
 * The fire layout of schema 4 (src/actors/persistence/fire-layout.ts, docs/persistence.md "Records
 * per run"): a fire is two records (its slot, its run in `unfinished`), its end moves the run to
 * `runs`; no schedule state per fire (the watermark is derived from the newest slot). Real LMDB in
 * temp directories; a version 3 store (runs in flight in `runs`) still reads and finishes.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Store } from '../../src/actors/persistence/store';
import { openTables, SCHEMA_KEY, SCHEMA_VERSION } from '../../src/actors/persistence/tables';
import type { Batch } from '../../src/actors/persistence/port';
import type { Run } from '../../src/model/run';
import type { RunRollup } from '../../src/actors/persistence/rollup';

const counted = (r: RunRollup): number => Object.values(r.counts).reduce((a, b) => a + b, 0);
import { makeJob, makeRun, makeSlot, removeDir, tempDir } from './helpers/fixtures';

const queued = (r: Run): Run => ({ ...r, status: 'queued', exitCode: null, startedAt: null, finishedAt: null, durationMs: null, output: '' });
const fireOf = (jobId: string, n: number): { slot: ReturnType<typeof makeSlot>; run: Run } => {
  const run = queued(makeRun(jobId, n));
  return { slot: makeSlot(jobId, n, { runId: run.id, at: run.scheduledAt }), run };
};
const batch = (p: Partial<Batch>): Batch => ({ fires: [], runs: [], states: [], ...p });

describe('fire layout (schema 4)', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  it('a fire is its slot and its run in flight; its end moves the run to history; each counted once', async () => {
    const store = await Store.open({ dataDir: dir });
    try {
      const job = makeJob(1);
      await store.insertJob(job, { jobId: job.id, lastSlotAt: null, nextRunAt: makeSlot(job.id, 1).at, anchorAt: job.createdAt });
      const f = fireOf(job.id, 1);
      expect(await store.commitBatch(batch({ fires: [f] }))).toEqual({ deduped: [], dropped: [] });
      // Readable everywhere while in flight, though it is one record.
      expect(store.getRun(f.run.id)).toEqual(f.run);
      expect(store.listRuns(job.id)).toEqual([f.run]);
      expect(store.listUnfinishedRuns()).toEqual([f.run]);
      expect(store.getSlot(job.id, f.slot.at)).toEqual(f.slot);
      // No state written by the fire: the stored one is derived forward to the slot.
      const st = store.getScheduleState(job.id)!;
      expect(st.lastSlotAt).toBe(f.slot.at);
      expect(st.nextRunAt).toBeNull(); // the stored next slot was this one: stale, so unknown
      expect(store.counts().runs).toBe(1); // counted where it lives

      // The same batch again (its reply was lost): written, not deduped, nothing doubled.
      expect(await store.commitBatch(batch({ fires: [f] }))).toEqual({ deduped: [], dropped: [] });
      // Another run for the same slot: deduped, never stored.
      const other = fireOf(job.id, 1);
      const clash = { slot: { ...other.slot, at: f.slot.at }, run: { ...other.run, id: `${other.run.id}x`, scheduledAt: f.slot.at } };
      expect((await store.commitBatch(batch({ fires: [clash] }))).deduped).toEqual([{ jobId: job.id, at: f.slot.at }]);
      expect(store.getRun(clash.run.id)).toBeNull();

      const done: Run = { ...f.run, status: 'succeeded', exitCode: 0, startedAt: f.run.scheduledAt, finishedAt: f.run.scheduledAt, durationMs: 1 };
      await store.commitBatch(batch({ runs: [done] }));
      await store.commitBatch(batch({ runs: [done] })); // a retried finish: counted once
      expect(store.getRun(f.run.id)).toEqual(done);
      expect(store.listRuns(job.id)).toEqual([done]);
      expect(store.listUnfinishedRuns()).toEqual([]);
      expect(counted(store.runRollup(job.id))).toBe(1);
      expect(store.counts().runs).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('history merges runs in flight with finished ones, newest first; deleting the job removes both', async () => {
    const store = await Store.open({ dataDir: dir });
    try {
      const job = makeJob(2);
      await store.insertJob(job);
      const fires = [1, 2, 3].map((n) => fireOf(job.id, n));
      await store.commitBatch(batch({ fires }));
      const first: Run = { ...fires[0]!.run, status: 'failed', exitCode: 1, finishedAt: fires[0]!.run.scheduledAt };
      await store.commitBatch(batch({ runs: [first] }));
      expect(store.listRuns(job.id).map((r) => r.id)).toEqual([fires[2]!.run.id, fires[1]!.run.id, first.id]);
      expect(store.listRuns(job.id, 2).map((r) => r.status)).toEqual(['queued', 'queued']);
      expect(store.backup().runs).toHaveLength(3);
      await store.deleteJob(job.id);
      expect(store.listUnfinishedRuns()).toEqual([]);
      expect(store.getRun(fires[2]!.run.id)).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('start-up pages take the watermark from the newest slot when the stored state is behind', async () => {
    const store = await Store.open({ dataDir: dir });
    try {
      const job = makeJob(3);
      const s1 = makeSlot(job.id, 1).at;
      await store.insertJob(job, { jobId: job.id, lastSlotAt: null, nextRunAt: s1, anchorAt: job.createdAt });
      await store.commitBatch(batch({ fires: [fireOf(job.id, 1), fireOf(job.id, 2)] }));
      const newest = Date.parse(makeSlot(job.id, 2).at);
      const page = store.jobPage(null, 10, Date.parse(s1) - 1000);
      // Its stored next slot is within the lookahead of `now`: the newest slot is read.
      expect(page.last[0]).toBe(newest);
      // Far ahead of every fire: the stored state is taken as it is (no slot read needed).
      const ahead = store.jobPage(null, 10, Date.parse(s1) - 60_000);
      expect(ahead.last[0]).toBeNaN();
    } finally {
      await store.close();
    }
  });

  it('a version 3 store (runs in flight in `runs`, job id in `unfinished`) reads, finishes, and is marked 4 when opened for writing', async () => {
    const job = makeJob(4);
    const old = queued(makeRun(job.id, 1));
    {
      const store = await Store.open({ dataDir: dir });
      await store.insertJob(job);
      await store.close();
      // Written as version 3 did: the run in `runs` and `runJob`, its job id in `unfinished`.
      const t = openTables(dir, false);
      await t.env.childTransaction(() => {
        void t.runs.put([job.id, old.id], old);
        void t.runJob.put(old.id, job.id);
        void t.unfinished.put(old.id, job.id);
        void t.meta.put(SCHEMA_KEY, 3);
      });
      await t.env.flushed;
      await t.env.close();
    }
    const ro = await Store.open({ dataDir: dir, readOnly: true });
    try {
      expect(ro.schemaVersion).toBe(3);
      expect(ro.listUnfinishedRuns()).toEqual([old]);
      expect(ro.getRun(old.id)).toEqual(old);
    } finally {
      await ro.close();
    }
    const store = await Store.open({ dataDir: dir });
    try {
      expect(store.schemaVersion).toBe(SCHEMA_VERSION);
      expect((await store.unfinishedRuns()).map((u) => u.run)).toEqual([old]);
      const done: Run = { ...old, status: 'interrupted', finishedAt: old.scheduledAt, error: 'test' };
      await store.commitBatch(batch({ runs: [done] }));
      expect(store.listRuns(job.id)).toEqual([done]);
      expect(store.listUnfinishedRuns()).toEqual([]);
      expect(counted(store.runRollup(job.id))).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('a process killed in the middle of its fire batches: every batch is whole or absent, no slot twice, each fire recoverable', async () => {
    const JOBS = 200;
    const child = spawn(process.execPath, [path.join(__dirname, 'helpers', 'fire-child.js'), dir, String(JOBS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acked = -1;
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        for (const m of b.toString().matchAll(/acked (\d+)/g)) acked = Math.max(acked, Number(m[1]));
        // Several batches acknowledged: the next one is being written right now.
        if (acked >= 5 && child.exitCode === null) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
      child.on('error', reject);
    });
    const store = await Store.open({ dataDir: dir });
    try {
      const jobs = store.listJobs();
      expect(jobs).toHaveLength(JOBS);
      const unfinished = store.listUnfinishedRuns();
      const counts = new Set<number>();
      for (const job of jobs) {
        const slots = store.listSlots(job.id).reverse();
        counts.add(slots.length);
        // Whole batches only, in order, none lost that was acknowledged.
        expect(slots.map((s) => s.at)).toEqual(slots.map((_, n) => makeSlot(job.id, n).at));
        for (const slot of slots) {
          const run = store.getRun(slot.runId!);
          expect(run).toMatchObject({ jobId: job.id, status: 'queued', scheduledAt: slot.at });
        }
      }
      // The same number of slots for every job: no batch was torn between jobs.
      expect(counts.size).toBe(1);
      const n = [...counts][0]!;
      expect(n).toBeGreaterThanOrEqual(acked + 1);
      // Every fire's run is in flight exactly once, and nothing else is.
      expect(unfinished).toHaveLength(n * JOBS);
      expect(new Set(unfinished.map((r) => r.id)).size).toBe(n * JOBS);
    } finally {
      await store.close();
    }
  }, 60_000);
});
