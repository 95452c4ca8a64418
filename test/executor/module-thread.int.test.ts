/**
 * JS job modules with `isolation: 'thread'`, on the real Piscina threads of the executor
 * (dist/src/workers/module-task.js): results, failures, process.exit, timeouts of modules that
 * ignore their abort, memory caps, cancels, reloads.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ExecutorPool, type RunRequest } from '../../src/actors/executor';
import { request, tempDir } from './helpers';

let pool: ExecutorPool;
let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  pool = new ExecutorPool({ maxConcurrent: 8, moduleThreads: 2, maxModuleThreads: 4 });
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

/** Resolves once `file` exists (a module writes it when it has started), polling; rejects after 20 s. */
async function until(file: string): Promise<void> {
  for (const deadline = Date.now() + 20_000; !fs.existsSync(file);) {
    if (Date.now() > deadline) throw new Error(`${file} never appeared`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Source that marks `file` as started, then evaluates `body` (an expression of ctx). */
const marks = (file: string, body: string) =>
  `module.exports = (ctx) => { require('fs').writeFileSync(${JSON.stringify(file)}, ''); return ${body}; };`;

const threadRequest = (over: Partial<RunRequest>) => request({ isolation: 'thread', killGraceMs: 300, ...over });
const run = (over: Partial<RunRequest>) => pool.start(threadRequest(over)).result;

/** A module that waits until `file` exists (a barrier the test opens), then returns `value`. */
const waitsFor = (file: string, value: string) =>
  `module.exports = () => new Promise((resolve) => {
     const t = setInterval(() => { if (require('fs').existsSync(${JSON.stringify(file)})) { clearInterval(t); resolve(${JSON.stringify(value)}); } }, 10);
   });`;

it('runs in this process (a thread), with its context; console, ctx.log and the value are its output', async () => {
  const file = moduleFile(
    'ok.js',
    `module.exports = async (ctx) => {
       console.log('hello', ctx.jobName, ctx.attempt, ctx.scheduledAt);
       console.error('to stderr');
       ctx.log('env', ctx.env.GREETING, ctx.env.RAE_SCHED_RUN_ID === ctx.runId, ctx.event && ctx.event.path);
       return { pid: process.pid, aborted: ctx.signal.aborted };
     };`,
  );
  const req = threadRequest({
    module: file, attempt: 2, jobName: 'greeter', scheduledAt: '2030-01-01T00:00:00.000Z', env: { GREETING: 'hi' },
    event: { type: 'update', path: '/tmp/x', paths: ['/tmp/x'] },
  });
  const r = await pool.start(req).result;
  expect(r).toMatchObject({ status: 'succeeded', exitCode: 0, error: null, peakMemoryBytes: null });
  expect(r.output).toBe(
    'hello greeter 2 2030-01-01T00:00:00.000Z\nto stderr\nenv hi true /tmp/x\n' +
    `${JSON.stringify({ pid: process.pid, aborted: false })}\n`,
  );
});

it('keeps the output of concurrent runs on one thread apart', async () => {
  const file = moduleFile(
    'chatty.js',
    `module.exports = async (ctx) => {
       for (let i = 0; i < 5; i++) { console.log(ctx.runId, i); await new Promise((r) => setTimeout(r, 5)); }
     };`,
  );
  const reqs = Array.from({ length: 6 }, () => threadRequest({ module: file }));
  const results = await Promise.all(reqs.map((q) => pool.start(q).result));
  results.forEach((r, i) => {
    expect(r.status).toBe('succeeded');
    expect(r.output).toBe([0, 1, 2, 3, 4].map((n) => `${reqs[i]!.runId} ${n}\n`).join(''));
  });
});

it('a throw or a rejection fails the run with its message; a missing module or export says so', async () => {
  const sync = await run({ module: moduleFile('throws.js', "module.exports = () => { throw new Error('disk is full'); };") });
  expect(sync).toMatchObject({ status: 'failed', exitCode: 1, error: 'disk is full' });
  expect(sync.output).toContain('Error: disk is full');
  expect(sync.output).toContain('throws.js:1');
  expect(sync.output).not.toMatch(/workers[/\\]run/); // the scheduler's own frames are left out
  const rejects = await run({ module: moduleFile('rejects.mjs', "export default async () => { throw new Error('no network'); };") });
  expect(rejects).toMatchObject({ status: 'failed', error: 'no network' });
  expect((await run({ module: path.join(tmp.dir, 'nope.js') })).error).toMatch(/cannot load job module/);
  expect((await run({ module: moduleFile('nofn.js', 'module.exports = { x: 1 };') })).error).toMatch(/no default or 'run' function/);
});

it('runs of a module already loaded settle at once: a value, a value that does not serialize, a synchronous throw', async () => {
  // Started together, they travel in one task: the first loads (stats) the file, the others call
  // the loaded function without an await (thread-run.ts #invoke).
  const file = moduleFile('sync.js', `module.exports = (ctx) => {
    if (ctx.attempt === 3) throw new Error('sync fail');
    if (ctx.attempt === 4) { const o = {}; o.self = o; return o; }
    console.log('ran', ctx.attempt);
    return 'v' + ctx.attempt;
  };`);
  const [first, ok, thrown, cyclic] = await Promise.all([1, 2, 3, 4].map((attempt) => run({ module: file, attempt })));
  expect(first).toMatchObject({ status: 'succeeded', exitCode: 0, output: 'ran 1\n"v1"\n' });
  expect(ok).toMatchObject({ status: 'succeeded', exitCode: 0, output: 'ran 2\n"v2"\n' });
  expect(thrown).toMatchObject({ status: 'failed', exitCode: 1, error: 'sync fail' });
  expect(thrown.output).toContain('sync.js:2');
  expect(cyclic).toMatchObject({ status: 'failed', exitCode: 1 });
  expect(cyclic.error).toMatch(/circular/i);
});

it('a returned value whose `then` throws when read fails only its own run (as an await of it would), the runs beside it succeed', async () => {
  const file = moduleFile('bad-then.js', `module.exports = (ctx) => {
    if (ctx.attempt === 2) return { get then() { throw new Error('then getter'); } };
    return 'v' + ctx.attempt;
  };`);
  // Loaded by a first run; then the module is called at once (thread-run.ts #invoke, no await).
  expect(await run({ module: file, attempt: 1 })).toMatchObject({ status: 'succeeded', output: '"v1"\n' });
  const [bad, after] = await Promise.all([2, 3].map((attempt) => run({ module: file, attempt })));
  expect(bad).toMatchObject({ status: 'failed', exitCode: 1, error: 'then getter' });
  expect(after).toMatchObject({ status: 'succeeded', output: '"v3"\n' });
});

it('process.exit fails only the run that called it; runs beside it and after it succeed', async () => {
  const barrier = path.join(tmp.dir, 'exit-barrier');
  const waiting = Array.from({ length: 4 }, (_, i) => pool.start(threadRequest({ module: moduleFile(`w${i}.js`, waitsFor(barrier, `w${i}`)) })).result);
  const exits = await run({ module: moduleFile('exit.js', "module.exports = () => { console.log('bye'); process.exit(3); console.log('never'); };") });
  expect(exits).toMatchObject({ status: 'failed', exitCode: 3, error: 'the job module called process.exit(3)', output: 'bye\n' });
  const zero = await run({ module: moduleFile('exit0.js', 'module.exports = () => process.exit(0);') });
  expect(zero.status).toBe('succeeded');
  fs.writeFileSync(barrier, '');
  expect((await Promise.all(waiting)).map((r) => [r.status, r.output])).toEqual([0, 1, 2, 3].map((i) => ['succeeded', `"w${i}"\n`]));
  expect((await run({ module: moduleFile('after-exit.js', "module.exports = () => 'still here';") })).output).toBe('"still here"\n');
});

it('an error thrown from a timer of the module fails that run, not the thread', async () => {
  const r = await run({
    module: moduleFile('timer-throws.js', "module.exports = () => new Promise(() => setTimeout(() => { throw new Error('late boom'); }, 5));"),
  });
  expect(r).toMatchObject({ status: 'failed', error: 'uncaught exception: late boom' });
  expect((await run({ module: moduleFile('fine.js', 'module.exports = () => 1;') })).status).toBe('succeeded');
});

describe('timeout', () => {
  it('a module that honours its abort signal ends `timeout` with its output', async () => {
    const file = moduleFile(
      'polite.js',
      `module.exports = (ctx) => new Promise((resolve) => {
         console.log('working');
         ctx.signal.addEventListener('abort', () => { console.log('aborted:', ctx.signal.reason.message); resolve(); });
       });`,
    );
    const r = await run({ module: file, limits: { timeoutMs: 200 } });
    expect(r.status).toBe('timeout');
    expect(r.error).toBe('timed out after 200ms (timeoutMs 200)');
    expect(r.output).toBe('working\naborted: timed out after 200ms (timeoutMs 200)\n');
  });

  it.each([
    ['a busy loop', '() => { for (;;) {} }'],
    ['a promise that never settles', '() => new Promise(() => setInterval(() => {}, 1000))'],
  ])('%s is stopped by terminating its thread; runs on other threads go on, and the thread is replaced', async (name, body) => {
    const ids = path.join(tmp.dir, `ids-${name.length}`);
    const file = moduleFile(`stuck-${name.length}.js`,
      `module.exports = (ctx) => { require('fs').writeFileSync(${JSON.stringify(ids)}, String(require('worker_threads').threadId)); return (${body})(ctx); };`);
    const barrier = path.join(tmp.dir, `stuck-barrier-${name.length}`);
    const beside = pool.start(threadRequest({ module: moduleFile(`beside-${name.length}.js`, waitsFor(barrier, 'beside')) })).result;
    const r = await run({ module: file, limits: { timeoutMs: 300 } });
    expect(r.status).toBe('timeout');
    expect(r.error).toMatch(/^timed out after 300ms \(timeoutMs 300\); the module did not stop within 300ms of its abort signal, so its thread was terminated$/);
    fs.writeFileSync(barrier, '');
    expect(await beside).toMatchObject({ status: 'succeeded', output: '"beside"\n' });
    const stuckThread = Number(fs.readFileSync(ids, 'utf8'));
    const next = await run({ module: moduleFile(`thread-id-${name.length}.js`, "module.exports = () => require('worker_threads').threadId;"), limits: { timeoutMs: 5000 } });
    expect(next.status).toBe('succeeded');
    expect(Number(next.output)).not.toBe(stuckThread);
  });
});

describe('memory cap', () => {
  it('a module that outgrows maxMemoryBytes is killed naming the limit; the next runs work', async () => {
    const grow = moduleFile('grow.js', 'module.exports = () => { const a = []; for (;;) a.push(new Array(100000).fill(7)); };');
    const cap = 64 * 1024 * 1024;
    const r = await run({ module: grow, limits: { maxMemoryBytes: cap, timeoutMs: 60_000 } });
    expect(r.status).toBe('killed');
    expect(r.error).toMatch(/exceeded the memory limit: .*maxMemoryBytes 64\.0 MB/);
    const small = moduleFile('small.js', 'module.exports = () => new Array(1000).fill(1).length;');
    const ok = await run({ module: small, limits: { maxMemoryBytes: cap } });
    expect(ok).toMatchObject({ status: 'succeeded', output: '1000\n' });
    expect(ok.peakMemoryBytes).toBeGreaterThan(0);
    expect((await run({ module: small })).status).toBe('succeeded');
  });
});

describe('cancel', () => {
  it('aborts a cooperative module: replace → killed', async () => {
    const started = path.join(tmp.dir, 'cancellable-started');
    const file = moduleFile('cancellable.js',
      marks(started, "new Promise((resolve) => ctx.signal.addEventListener('abort', () => { console.log('aborted'); resolve(); }))"));
    const handle = pool.start(threadRequest({ module: file }));
    await until(started);
    handle.cancel('replace');
    const r = await handle.result;
    expect(r.output).toBe('aborted\n');
    expect(r).toMatchObject({ status: 'killed' });
    expect(r.error).toMatch(/replaced by a newer run/);
  });

  it('a module on a shared thread that ignores the cancel is given up after the grace; the threads are replaced', async () => {
    const started = path.join(tmp.dir, 'deaf-started');
    const file = moduleFile('deaf.js', marks(started, 'new Promise(() => setInterval(() => {}, 1000))'));
    const handle = pool.start(threadRequest({ module: file }));
    await until(started);
    handle.cancel('manual');
    const r = await handle.result;
    expect(r.status).toBe('killed');
    expect(r.error).toBe('killed: cancelled on request; the module did not stop within 300ms of its abort signal');
    expect((await run({ module: moduleFile('after-deaf.js', "module.exports = () => 'ok';") })).output).toBe('"ok"\n');
  });

  it('a run cancelled before it reached a thread never runs', async () => {
    const marker = path.join(tmp.dir, 'ran');
    const handle = pool.start(threadRequest({ module: moduleFile('marks.js', `module.exports = () => require('fs').writeFileSync(${JSON.stringify(marker)}, '');`) }));
    handle.cancel('shutdown');
    expect((await handle.result).status).toBe('interrupted');
    expect(fs.existsSync(marker)).toBe(false);
  });
});

it('runs the new code once the file changed (CommonJS and ES modules)', async () => {
  for (const name of ['reload.js', 'reload.mjs']) {
    const file = moduleFile(name, name.endsWith('.mjs') ? "export default () => 'v1';" : "module.exports = () => 'v1';");
    expect((await run({ module: file })).output).toBe('"v1"\n');
    expect((await run({ module: file })).output).toBe('"v1"\n');
    fs.writeFileSync(file, name.endsWith('.mjs') ? "export default () => 'version 2';" : "module.exports = () => 'version 2';");
    // The size changed too; bump the mtime anyway, in case the clock did not move between the writes.
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(file, later, later);
    expect((await run({ module: file })).output).toBe('"version 2"\n');
  }
});

it("`isolation: 'process'` still runs the module in a child process", async () => {
  const file = moduleFile('pid.js', 'module.exports = () => process.pid;');
  const r = await pool.start(request({ module: file, isolation: 'process' })).result;
  expect(r.status).toBe('succeeded');
  expect(Number(r.output)).not.toBe(process.pid);
  expect(Number((await run({ module: file })).output)).toBe(process.pid);
});

it('close interrupts thread runs still going after the grace', async () => {
  const own = new ExecutorPool({ maxConcurrent: 2, moduleThreads: 1 });
  const started = path.join(tmp.dir, 'forever-started');
  const file = moduleFile('forever.js', marks(started, '(() => { for (;;) {} })()'));
  const handle = own.start(threadRequest({ module: file }));
  await until(started);
  await own.close({ graceMs: 100 });
  const r = await handle.result;
  expect(r.status).toBe('interrupted');
  expect(r.error).toMatch(/shut down/);
});

it('a heap cap too small for a thread to boot fails the run, saying so, and the pool goes on', async () => {
  const file = moduleFile('tiny.js', 'module.exports = () => 1;');
  const r = await run({ module: file, limits: { maxMemoryBytes: 1024 * 1024 } });
  expect(r.status).toBe('failed');
  expect(r.error).toMatch(/maxMemoryBytes 1 MB is too small for a worker thread to start/);
  expect((await run({ module: file })).status).toBe('succeeded');
});
