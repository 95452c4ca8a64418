/**
 * The pool's close is bounded (issue 8): a run host that never answers — hung, or its messages
 * lost — used to hold `close` forever (it waited for every run before it closed the hosts, and
 * only closing the host ends the runs it holds), and with it the scheduler's shutdown.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ExecutorPool } from '../../src/actors/executor';
import { request, tempDir } from './helpers';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

it('close ends a run whose host never answers: the host is killed, the run interrupted', async () => {
  const hostFile = path.join(tmp.dir, 'mute-host.js');
  const got = path.join(tmp.dir, 'got-run');
  // Takes every message and answers none; does not exit when its channel closes.
  fs.writeFileSync(hostFile, `process.on('message', () => require('fs').writeFileSync(${JSON.stringify(got)}, ''));
    process.on('disconnect', () => undefined);
    setInterval(() => undefined, 1000);`);
  const pool = new ExecutorPool({ maxConcurrent: 1, hostFile });
  const run = pool.start(request({ command: 'true' }));
  for (let i = 0; i < 1000 && !fs.existsSync(got); i++) await new Promise((r) => setTimeout(r, 20));
  expect(fs.existsSync(got)).toBe(true);
  await pool.close({ graceMs: 0 });
  const r = await run.result;
  expect(r.status).toBe('interrupted');
  expect(r.error).toMatch(/shut down/);
}, 60_000);
