/**
 * JS job modules run in a child node process (module-host) through the real worker.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ExecutorPool } from '../../src/actors/executor';
import { isRunning, request, tempDir } from './helpers';

let pool: ExecutorPool;
let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  pool = new ExecutorPool({ maxConcurrent: 2 });
  tmp = tempDir();
});
afterAll(async () => {
  await pool.close({ graceMs: 0 });
  tmp.cleanup();
});

function moduleFile(name: string, source: string): string {
  const file = path.join(tmp.dir, name);
  fs.writeFileSync(file, source);
  return file;
}

const run = (over: Parameters<typeof request>[0]) => pool.start(request(over)).result;

it('runs an async default export with its context; the resolved value is appended as JSON', async () => {
  const file = moduleFile(
    'ok.js',
    `module.exports = async (ctx) => {
       ctx.log('hello', ctx.jobId, ctx.attempt, ctx.signal.aborted);
       return { runId: ctx.runId, n: 42 };
     };`,
  );
  const req = request({ module: file, attempt: 2 });
  const r = await pool.start(req).result;
  expect(r).toMatchObject({ status: 'succeeded', exitCode: 0, error: null });
  expect(r.output).toBe(`hello job-test 2 false\n${JSON.stringify({ runId: req.runId, n: 42 })}\n`);
});

it('accepts a named `run` export, an ES module, and a path relative to cwd', async () => {
  moduleFile('named.js', 'exports.run = () => "named";');
  moduleFile('esm.mjs', 'export default async function () { return "esm"; }');
  expect((await run({ module: 'named.js', cwd: tmp.dir })).output).toBe('"named"\n');
  expect((await run({ module: 'esm.mjs', cwd: tmp.dir })).output).toBe('"esm"\n');
});

it('a throw or rejection fails the run with the message', async () => {
  const file = moduleFile('bad.js', "module.exports = async () => { throw new Error('disk is full'); };");
  const r = await run({ module: file });
  expect(r).toMatchObject({ status: 'failed', exitCode: 1, error: 'disk is full' });
  expect(r.output).toContain('disk is full');
});

it('a module that cannot load, or exports no function, fails with a clear error', async () => {
  const missing = await run({ module: path.join(tmp.dir, 'nope.js') });
  expect(missing.status).toBe('failed');
  expect(missing.error).toMatch(/cannot load job module/);
  const noFn = await run({ module: moduleFile('nofn.js', 'module.exports = { x: 1 };') });
  expect(noFn.error).toMatch(/no default or 'run' function/);
});

it('limits apply: a timed-out module sees its signal abort and is killed', async () => {
  const file = moduleFile(
    'slow.js',
    `module.exports = (ctx) => new Promise(() => {
       setInterval(() => {}, 1000);
       console.log(process.pid);
       ctx.signal.addEventListener('abort', () => console.log('aborted'));
     });`,
  );
  const r = await run({ module: file, limits: { timeoutMs: 3000 }, killGraceMs: 300 });
  expect(r.status).toBe('timeout');
  const [pid, note] = r.output.trim().split('\n');
  expect(note).toBe('aborted');
  expect(isRunning(Number(pid))).toBe(false);
});

it('a promise that can never settle fails the run instead of passing silently', async () => {
  const r = await run({ module: moduleFile('hang.js', 'module.exports = () => new Promise(() => {});') });
  expect(r.status).toBe('failed');
  expect(r.error).toMatch(/never settled/);
});
