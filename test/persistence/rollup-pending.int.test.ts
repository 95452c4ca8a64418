/**
 * Per-job statistics as one pending record per batch, folded later (rollup-pending.ts): a job's
 * rollup as read is always exactly the rollup of its final runs — before a fold, after one, after a
 * process killed between two folds, after the job is removed, after a rebuild. Real LMDB in temp
 * directories, a real child process, a real SIGKILL.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Store } from '../../src/actors/persistence/store';
import { openTables } from '../../src/actors/persistence/tables';
import { countRun, emptyRollup, GLOBAL_KEY, isFinal, type RunRollup } from '../../src/actors/persistence/rollup';
import { FOLD_RUNS, PENDING_RUNS_KEY, appendPendingTx, pendingOf, rebuildRollups } from '../../src/actors/persistence/rollup-pending';
import type { Run } from '../../src/model/run';
import { finalRunOf, makeJob, removeDir, tempDir } from './helpers/fixtures';

/** The rollup of `runs`, counted one by one (what the per-batch read-modify-write produced). */
function rollupOfRuns(runs: Iterable<Run>): RunRollup {
  const r = emptyRollup();
  for (const run of runs) if (isFinal(run)) countRun(r, run);
  return r;
}

/** Every job's runs as stored, and the pending records' count (a read-only view of the store). */
function storedRuns(dir: string): { byJob: Map<string, Run[]>; pending: number; folded: RunRollup[] } {
  const t = openTables(dir, true);
  try {
    const byJob = new Map<string, Run[]>();
    for (const { value } of t.runs.getRange({})) byJob.set(value.jobId, [...(byJob.get(value.jobId) ?? []), value]);
    const pending = [...t.statsPending!.getKeys({})].length;
    const folded = [...byJob.keys()].map((id) => t.stats.get(id) ?? emptyRollup());
    return { byJob, pending, folded };
  } finally {
    void t.env.close();
  }
}

/** Each job's rollup and the global one, as the store reads them, equal the rollups of the stored runs. */
function expectExact(store: Store, byJob: Map<string, Run[]>): void {
  for (const [jobId, runs] of byJob) expect(store.runRollup(jobId)).toEqual(rollupOfRuns(runs));
  expect(store.runRollup()).toEqual(rollupOfRuns([...byJob.values()].flat()));
}

const total = (r: RunRollup): number => Object.values(r.counts).reduce((a, b) => a + b, 0);

describe('per-job statistics folded from pending records', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  it('a process killed between two folds: every run counted exactly once, in its job\'s record or pending; later folds stay exact', async () => {
    const JOBS = 50;
    const PER_JOB = 100;
    // FOLD_RUNS / (JOBS × PER_JOB) batches make a fold; kill two batches after the first one.
    const foldEvery = Math.ceil(FOLD_RUNS / (JOBS * PER_JOB));
    const child = spawn(process.execPath, [path.join(__dirname, 'helpers', 'finish-child.js'), dir, String(JOBS), String(PER_JOB)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acked = -1;
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        for (const m of b.toString().matchAll(/acked (\d+)/g)) acked = Math.max(acked, Number(m[1]));
        // Past a fold, with batches pending: the next one is being written right now.
        if (acked >= foldEvery + 1 && child.exitCode === null) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
      child.on('error', reject);
    });
    expect(child.signalCode).toBe('SIGKILL');
    const before = storedRuns(dir);
    // The read combines both halves: a fold happened, and records are pending beside it.
    expect(before.pending).toBeGreaterThan(0);
    expect(before.folded.every((r) => total(r) >= foldEvery * PER_JOB)).toBe(true);
    expect([...before.byJob.values()].flat().length).toBeGreaterThanOrEqual((acked + 1) * JOBS * PER_JOB);
    const ro = await Store.open({ dataDir: dir, readOnly: true });
    try {
      expectExact(ro, before.byJob);
    } finally {
      await ro.close();
    }
    // Reopened for writing, it goes on counting across the next fold.
    const store = await Store.open({ dataDir: dir });
    try {
      const jobs = store.listJobs();
      const n0 = Math.max(...[...before.byJob.values()].flat().map((r) => Number(r.output.match(/\d+/)![0]))) + 1;
      for (let b = 0; b < foldEvery; b++) {
        const runs = jobs.flatMap((j, i) => Array.from({ length: PER_JOB }, (_, k) => finalRunOf(j.id, n0 + b * PER_JOB + k, i)));
        await store.commitBatch({ fires: [], runs, states: [] });
      }
      const after = storedRuns(dir);
      expect(after.pending).toBeLessThan(foldEvery);
      expectExact(store, after.byJob);
    } finally {
      await store.close();
    }
  }, 120_000);

  it('a final record written twice counts once; a removed job\'s pending runs are dropped with it; a rebuild clears what is pending', async () => {
    const store = await Store.open({ dataDir: dir });
    try {
      const [a, b] = [makeJob(1), makeJob(2)];
      await store.insertJobs([{ job: a }, { job: b }]);
      const runsA = [finalRunOf(a.id, 1, 0), finalRunOf(a.id, 2, 0)];
      const runB = finalRunOf(b.id, 3, 1);
      await store.commitBatch({ fires: [], runs: [...runsA, runB], states: [] });
      await store.commitBatch({ fires: [], runs: [runsA[0]!], states: [] });
      expect(store.runRollup(a.id)).toEqual(rollupOfRuns(runsA));
      expect(store.runRollup()).toEqual(rollupOfRuns([...runsA, runB]));
      await store.deleteJob(b.id);
      expect(store.runRollup(b.id)).toEqual(emptyRollup());
      // The whole-store record keeps counting a removed job's runs (totals never go down).
      expect(total(store.runRollup())).toBe(3);
      const t = openTables(dir, false);
      try {
        // Folded now: the removed job's tuple goes nowhere, a's runs land in its record.
        await t.env.childTransaction(() => appendPendingTx(t, [pendingOf(finalRunOf(a.id, 4, 0))], { runs: 0, records: 0 }));
        await t.env.flushed;
        expect([...t.statsPending!.getKeys({})]).toEqual([]);
        expect(t.meta.get(PENDING_RUNS_KEY)).toBeUndefined();
        expect(t.stats.get(b.id)).toBeUndefined();
        expect(t.stats.get(a.id)).toEqual(rollupOfRuns([...runsA, finalRunOf(a.id, 4, 0)]));
        // A rebuild (restore, or a store from before rollups) counts the stored runs: nothing pending stays.
        await t.env.childTransaction(() => appendPendingTx(t, [pendingOf(runsA[1]!)]));
        await t.env.childTransaction(() => rebuildRollups(t));
        await t.env.flushed;
        expect([...t.statsPending!.getKeys({})]).toEqual([]);
        expect(t.stats.get(a.id)).toEqual(rollupOfRuns(runsA));
        expect(t.stats.get(GLOBAL_KEY)).toEqual(rollupOfRuns(runsA));
      } finally {
        await t.env.close();
      }
    } finally {
      await store.close();
    }
  });
});
