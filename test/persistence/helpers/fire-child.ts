/**
 * A process committing fire batches until it is killed (fire-layout.int: a crash in the middle of
 * a batch). Usage: node fire-child.js DATA_DIR JOBS — inserts JOBS jobs, then commits one batch per
 * slot (every job's fire: its slot and its queued run) and prints `acked N` once batch N is durable.
 */
import { Store } from '../../../src/actors/persistence/store';
import { makeJob, makeRun, makeSlot } from './fixtures';

async function main(): Promise<void> {
  const [dataDir, count] = process.argv.slice(2) as [string, string];
  const store = await Store.open({ dataDir });
  const jobs = Array.from({ length: Number(count) }, (_, i) => makeJob(i, { catchUp: 'none' }));
  await store.insertJobs(jobs.map((job) => ({ job })));
  for (let n = 0; ; n++) {
    const fires = jobs.map((j) => {
      const run = makeRun(j.id, n, { status: 'queued', exitCode: null, startedAt: null, finishedAt: null, durationMs: null, output: '' });
      return { slot: makeSlot(j.id, n, { runId: run.id }), run };
    });
    await store.commitBatch({ fires, runs: [], states: [] });
    process.stdout.write(`acked ${n}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(3);
});
