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
import { FOLD_RUNS, PENDING_RUNS_KEY, SHARDS, appendPendingTx, foldPendingTx, pendingOf, rebuildRollups, setFoldRuns } from '../../src/actors/persistence/rollup-pending';
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
    for (const { value } of t.runs.getRange({})) {
      const runs = byJob.get(value.jobId);
      if (runs === undefined) byJob.set(value.jobId, [value]);
      else runs.push(value);
    }
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

/** A shard folds every FOLD of its runs here (FOLD_RUNS in production): a few thousand runs make folds. */
const FOLD = 1000;

describe('per-job statistics folded from pending records', () => {
  let dir: string;
  let previous = FOLD_RUNS;
  beforeEach(() => {
    dir = tempDir();
    previous = setFoldRuns(FOLD);
  });
  afterEach(() => {
    setFoldRuns(previous);
    removeDir(dir);
  });

  it('a process killed between two folds: every run counted exactly once, in its job\'s record or pending; later folds stay exact', async () => {
    // 16 jobs over 16 shards: some shard holds two or more (all distinct: p ≈ 1e-6), so it reaches
    // the threshold within FOLD / (2 × PER_JOB) batches; kill a few batches after that.
    const JOBS = 16;
    const PER_JOB = 40;
    const firstFold = Math.ceil(FOLD / (2 * PER_JOB));
    const child = spawn(process.execPath, [path.join(__dirname, 'helpers', 'finish-child.js'), dir, String(JOBS), String(PER_JOB), String(FOLD)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acked = -1;
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        for (const m of b.toString().matchAll(/acked (\d+)/g)) acked = Math.max(acked, Number(m[1]));
        // Past a fold, with batches pending: the next one is being written right now.
        if (acked >= firstFold + 3 && child.exitCode === null) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
      child.on('error', reject);
    });
    expect(child.signalCode).toBe('SIGKILL');
    const before = storedRuns(dir);
    // The read combines both halves: some job's runs are folded, and records are pending beside them.
    expect(before.pending).toBeGreaterThan(0);
    expect(before.folded.some((r) => total(r) > 0)).toBe(true);
    expect([...before.byJob.values()].flat().length).toBeGreaterThanOrEqual((acked + 1) * JOBS * PER_JOB);
    const ro = await Store.open({ dataDir: dir, readOnly: true });
    try {
      expectExact(ro, before.byJob);
    } finally {
      await ro.close();
    }
    // Reopened for writing, it goes on counting across the next folds (every shard's, in turn).
    const store = await Store.open({ dataDir: dir });
    try {
      const jobs = store.listJobs();
      const n0 = Math.max(...[...before.byJob.values()].flat().map((r) => Number(/\d+/.exec(r.output)![0]))) + 1;
      for (let b = 0; b < 2 * Math.ceil(FOLD / PER_JOB); b++) {
        const runs = jobs.flatMap((j, i) => Array.from({ length: PER_JOB }, (_, k) => finalRunOf(j.id, n0 + b * PER_JOB + k, i)));
        await store.commitBatch({ fires: [], runs, states: [] });
      }
      const after = storedRuns(dir);
      expect(after.folded.every((r) => total(r) > 0)).toBe(true);
      expectExact(store, after.byJob);
    } finally {
      await store.close();
    }
  }, 180_000);

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
        await t.env.childTransaction(() => {
          appendPendingTx(t, [pendingOf(finalRunOf(a.id, 4, 0))]);
          foldPendingTx(t);
        });
        await t.env.flushed;
        expect([...t.statsPending!.getKeys({})]).toEqual([]);
        for (let sh = 0; sh < SHARDS; sh++) expect(t.meta.get(`${PENDING_RUNS_KEY}:${sh}`)).toBeUndefined();
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
