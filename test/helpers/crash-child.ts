/**
 * A scheduler in its own process, for crash tests: `node crash-child.js DIR` starts it on DIR (real
 * clock), adds JOBS jobs on `every 1s` if the store has none, and prints one line per run event
 * (`started RUNID`, `finished RUNID STATUS`) so the test can `kill -9` it at a chosen moment.
 */
import { createScheduler } from '../../src/index';

const JOBS = 5;

async function main(): Promise<void> {
  const dir = process.argv[2]!;
  const s = await createScheduler({ dataDir: dir, maxConcurrentJobs: 16 });
  s.events$.subscribe((e) => {
    if (e.type === 'run.started') process.stdout.write(`started ${e.run.id}\n`);
    if (e.type === 'run.finished') process.stdout.write(`finished ${e.run.id} ${e.run.status}\n`);
  });
  if ((await s.listJobs()).length === 0) {
    for (let i = 0; i < JOBS; i++) await s.addJob({ name: `c${i}`, schedule: 'every 1s', command: 'sleep 0.6' });
  }
  process.stdout.write('ready\n');
}

void main();
