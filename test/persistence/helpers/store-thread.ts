/**
 * Worker-thread body of the open/close stress test: opens the store, writes and reads a few jobs,
 * closes, and repeats; posts the count of jobs it wrote (or the error) to the parent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Store } from '../../../src/actors/persistence/store';
import { makeJob } from './fixtures';

async function main(): Promise<void> {
  const { dataDir, tag, cycles } = workerData as { dataDir: string; tag: string; cycles: number };
  let written = 0;
  for (let c = 0; c < cycles; c++) {
    const store = await Store.open({ dataDir });
    const job = makeJob(c, { name: `${tag}-${c}` });
    // Not awaited before close on purpose on odd cycles: close must wait for the pending write.
    const write = store.insertJob(job);
    if (c % 2 === 0) await write;
    else write.catch(() => undefined);
    await store.close();
    await write;
    written++;
  }
  parentPort!.postMessage({ ok: true, written });
}

main().catch((err: unknown) => parentPort!.postMessage({ ok: false, error: String((err as Error)?.stack ?? err) }));
