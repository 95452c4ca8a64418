/** `--when` through a real active scheduler (real clock, real machine): a disk + pid-file condition fires a run; an unreadable signal is refused at add. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { createScheduler, type Scheduler } from '../../src/index';
import type { Run } from '../../src/model/run';
import { removeDir, tempDir } from '../helpers/scheduler';

jest.setTimeout(60_000);

let dir: string;
let s: Scheduler;
beforeEach(async () => {
  dir = tempDir('rae-when-');
  s = await createScheduler({ dataDir: join(dir, 'data') });
});
afterEach(async () => {
  await s.shutdown({ graceMs: 0 });
  removeDir(dir);
});

test('disk(DIR).free <= 100% and process(pidfile:...) running fires the job (trigger event)', async () => {
  const pidfile = join(dir, 'me.pid');
  writeFileSync(pidfile, `${process.pid}\n`);
  const condition = `disk(${dir}).free <= 100% and process(pidfile:${pidfile}) running`;
  const job = await s.addJob({ name: 'w', schedule: 'never', command: 'true', triggers: [{ type: 'when', condition }] });
  const run = await firstValueFrom(s.events$.pipe(
    filter((e) => e.type === 'run.finished' && e.run.jobId === job.id),
    timeout(40_000),
  )).then((e) => (e as { run: Run }).run);
  expect(run.trigger).toBe('event');
  expect(run.status).toBe('succeeded');
  const health = await s.health();
  expect(JSON.stringify(health)).toContain('1 usage conditions');
});

test('a condition on a disk that cannot be read is refused at add, naming it; nothing is stored', async () => {
  await expect(s.addJob({ name: 'x', schedule: 'never', command: 'true', triggers: [{ type: 'when', condition: 'disk(/no/such/mount).free < 1GB' }] }))
    .rejects.toMatchObject({ code: 'VALIDATION', field: 'when', message: expect.stringContaining('is not available here: disk(/no/such/mount): cannot read its file system (ENOENT)') });
  expect((await s.listJobs()).map((j) => j.name)).toEqual([]);
});
