/**
 * A process committing batches of final runs until it is killed (rollup-pending.int: a crash
 * between two folds of the per-job statistics). Usage: node finish-child.js DATA_DIR JOBS PER_JOB FOLD_RUNS —
 * folds a shard of per-job statistics every FOLD_RUNS of its runs; inserts JOBS jobs, then commits batch after batch of PER_JOB final runs of every job (statuses
 * and whole-millisecond durations varying) and prints `acked N` once batch N is durable.
 */
import { Store } from '../../../src/actors/persistence/store';
import { setFoldRuns } from '../../../src/actors/persistence/rollup-pending';
import { finalRunOf, makeJob } from './fixtures';

async function main(): Promise<void> {
  const [dataDir, count, perJob, foldRuns] = process.argv.slice(2).map((a, i) => (i === 0 ? a : Number(a))) as [string, number, number, number];
  setFoldRuns(foldRuns);
  const store = await Store.open({ dataDir });
  const jobs = Array.from({ length: count }, (_, i) => makeJob(i));
  await store.insertJobs(jobs.map((job) => ({ job })));
  for (let b = 0; ; b++) {
    const runs = jobs.flatMap((j, i) => Array.from({ length: perJob }, (_, k) => finalRunOf(j.id, b * perJob + k, i)));
    await store.commitBatch({ fires: [], runs, states: [] });
    process.stdout.write(`acked ${b}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(3);
});
