/**
 * A separate process on a data directory (what a CLI command is while the daemon runs).
 * Usage: node store-child.js DATA_DIR insert-and-hang|insert|get NAME
 */
import { Store } from '../../../src/actors/persistence/store';
import { makeJob } from './fixtures';

async function main(): Promise<void> {
  const [dataDir, command, name] = process.argv.slice(2) as [string, string, string];
  const store = await Store.open({ dataDir });
  if (command === 'get') {
    process.stdout.write(`${JSON.stringify(store.getJobByName(name))}\n`);
    await store.close();
    return;
  }
  const job = makeJob(Number(process.pid), { name });
  await store.insertJob(job);
  if (command === 'insert') {
    await store.close();
    process.stdout.write(`${job.id}\n`);
    return;
  }
  // Acknowledged: tell the parent, then stay alive (store open, no close) until SIGKILLed.
  process.stdout.write(`written ${job.id}\n`);
  setInterval(() => undefined, 60_000);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(3);
});
