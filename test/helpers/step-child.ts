/**
 * A scheduler on a virtual clock in its own process, for clock-step crash tests:
 * `node step-child.js DIR T0 JOBS MODE [fired] [STEP_MS]` starts it on DIR at virtual time T0, adds
 * JOBS jobs on `every 10 minutes` if the store has none, prints `ready`, then steps the wall clock
 * STEP_MS (default 3 minutes ahead; negative: back). With `fired`, the jobs first fire their
 * first slot (T0 + 10 min) and those runs finish before the step.
 * MODE `durable`: prints `stepped` once the step is handled and everything is durable.
 * MODE `unrecorded`: every commit fails from before the step on; prints `stepped` once the step is
 * handled in memory (its record not durable).
 * MODE `after`: as `durable`, then every job's next slot (where the step moved it) fires and its run
 * finishes, durable; then prints `stepped`. The test then `kill -9`s it.
 */
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import { createScheduler, testHooksOf } from '../../src/scheduler';
import { VirtualClock } from '../../src/runtime/clock';

async function main(): Promise<void> {
  const [dir, t0, jobs, mode, fired, stepMs] = process.argv.slice(2) as [string, string, string, 'durable' | 'unrecorded' | 'after', string?, string?];
  const clock = new VirtualClock(Number(t0));
  const s = await createScheduler({ dataDir: dir, clock });
  if ((await s.listJobs()).length === 0) {
    for (let i = 0; i < Number(jobs); i++) await s.addJob({ name: `iv${i}`, schedule: 'every 10 minutes', command: 'true' });
  }
  if (fired === 'fired') {
    const finished = firstValueFrom(s.events$.pipe(filter((e) => e.type === 'run.finished'), take(Number(jobs)), toArray()));
    await clock.advance(10 * 60_000 + 1000);
    await finished;
    await clock.advance(1000); // the runs' final records committed
  }
  process.stdout.write('ready\n');
  if (mode === 'unrecorded') await testHooksOf(s).storeFault({ mode: 'fail', times: 1_000_000 });
  const jumped = firstValueFrom(s.events$.pipe(filter((e) => e.type === 'clock.jumped')));
  clock.jump(stepMs === undefined ? 180_000 : Number(stepMs));
  // The queue's timer notices the step at its next wake (each wait is capped at 30 s).
  const advanced = clock.advance(30_000);
  await jumped;
  if (mode !== 'unrecorded') await advanced;
  else await new Promise((r) => setTimeout(r, 500)); // the step's turn ends; its commit fails and waits to retry
  if (mode === 'after') {
    const finished = firstValueFrom(s.events$.pipe(filter((e) => e.type === 'run.finished'), take(Number(jobs)), toArray()));
    await clock.advance(10 * 60_000); // through every job's moved next slot
    await finished;
    await clock.advance(1000); // the runs' final records committed
  }
  process.stdout.write('stepped\n');
}

void main();
