/**
 * A scheduler in its own process on a VIRTUAL clock, for the crash test of fires committed ahead:
 * `node ahead-child.js DIR T0` starts it on DIR at T0, adds one job on `every 10s` (`true`), moves
 * time to 100 ms before its first slot (inside the lead window, so the slot's fire is committed
 * ahead of its time), waits until that fire is in the store, prints `committed`, and idles until
 * the test `kill -9`s it.
 */
import { createScheduler } from '../../src/index';
import { VirtualClock } from '../../src/testing';

async function main(): Promise<void> {
  const [dir, t0] = [process.argv[2]!, Number(process.argv[3])];
  const clock = new VirtualClock(t0);
  const s = await createScheduler({ dataDir: dir, clock, maxConcurrentJobs: 4 });
  const job = await s.addJob({ name: 'ahead', schedule: 'every 10s', command: 'true' });
  s.events$.subscribe((e) => {
    if (e.type === 'run.started') process.stdout.write(`started ${e.run.id}\n`);
  });
  await clock.advance(9_900);
  const slot = new Date(t0 + 10_000).toISOString();
  for (;;) {
    const why = await s.why(job.id);
    if (why.slots.some((sl) => sl.at === slot && sl.outcome === 'fired')) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  process.stdout.write('committed\n');
  setInterval(() => undefined, 60_000);
}

void main();
