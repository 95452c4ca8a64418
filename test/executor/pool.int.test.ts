/**
 * The pool itself: cancel, many concurrent long runs on few threads, close with grace, and
 * recovery from a worker that fails at bootstrap.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ExecutorPool, type RunResult } from '../../src/actors/executor';
import { isRunning, request, tempDir } from './helpers';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

/** A shell command that blocks until `file` exists (a barrier the test opens). */
const waitFor = (file: string) => `while [ ! -e '${file}' ]; do sleep 0.02; done`;

describe('cancel', () => {
  let pool: ExecutorPool;
  beforeAll(() => {
    pool = new ExecutorPool({ maxConcurrent: 4 });
  });
  afterAll(() => pool.close({ graceMs: 0 }));

  it.each([
    ['shutdown', 'interrupted'],
    ['replace', 'killed'],
    ['manual', 'killed'],
  ] as const)('cancel(%s) kills the running group and ends %s', async (reason, status) => {
    let pid = 0;
    const handle = pool.start(request({ command: 'sleep 100' }), {
      onStarted: (info) => {
        pid = info.pid!;
        handle.cancel(reason);
      },
    });
    const r = await handle.result;
    expect(r.status).toBe(status);
    expect(r.error).toMatch(reason === 'shutdown' ? /shut down/ : reason === 'replace' ? /replaced/ : /cancelled/);
    expect(pid).toBeGreaterThan(0);
    expect(isRunning(pid)).toBe(false);
  });

  it('a cancel sent before the run started ends it without running it', async () => {
    // If the cancel were lost, `sleep 100` would outlive the test's timeout.
    const handle = pool.start(request({ command: 'sleep 100' }));
    handle.cancel('shutdown');
    const r = await handle.result;
    expect(r.status).toBe('interrupted');
  });
});

describe('concurrency', () => {
  it('runs 20 long-running processes at once on 2 threads', async () => {
    const pool = new ExecutorPool({ maxConcurrent: 20, threads: 2 });
    const barrier = path.join(tmp.dir, 'go');
    let started = 0;
    // Every run blocks until all 20 have started: if they could not all run at once this would
    // never finish (and the timeoutMs would fail them), however fast or slow the machine.
    const handles = Array.from({ length: 20 }, () =>
      pool.start(request({ command: waitFor(barrier), limits: { timeoutMs: 25_000 } }), {
        onStarted: () => {
          if (++started === 20) fs.writeFileSync(barrier, '');
        },
      }),
    );
    expect(pool.running).toBe(20);
    const results: RunResult[] = await Promise.all(handles.map((h) => h.result));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill('succeeded'));
    expect(Math.max(...results.map((r) => r.startedAt))).toBeLessThanOrEqual(Math.min(...results.map((r) => r.finishedAt)));
    expect(pool.running).toBe(0);
    await pool.close({ graceMs: 0 });
  });
});

describe('threads', () => {
  it('keeps an idle worker thread for the next runs instead of booting a new one', async () => {
    const boots = path.join(tmp.dir, 'boots');
    const workerFile = path.join(tmp.dir, 'counting-worker.js');
    const realTask = path.resolve(__dirname, '../../src/workers/run-task.js');
    fs.writeFileSync(
      workerFile,
      `require('fs').appendFileSync(${JSON.stringify(boots)}, 'boot\\n');
       module.exports = require(${JSON.stringify(realTask)});`,
    );
    const pool = new ExecutorPool({ maxConcurrent: 2, threads: 2, workerFile });
    // Two runs that block until both have started need both threads at once.
    const pair = async (barrier: string) => {
      let started = 0;
      const runs = [0, 1].map(() =>
        pool.start(request({ command: waitFor(barrier), limits: { timeoutMs: 25_000 } }), {
          onStarted: () => {
            if (++started === 2) fs.writeFileSync(barrier, '');
          },
        }),
      );
      return Promise.all(runs.map(async (h) => (await h.result).status));
    };
    expect(await pair(path.join(tmp.dir, 'go1'))).toEqual(['succeeded', 'succeeded']);
    // Idle for a moment: with Piscina's default idleTimeout (0) the second thread is gone by now.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await pair(path.join(tmp.dir, 'go2'))).toEqual(['succeeded', 'succeeded']);
    await pool.close({ graceMs: 0 });
    expect(fs.readFileSync(boots, 'utf8')).toBe('boot\nboot\n');
  });
});

describe('close', () => {
  it('lets runs finish within the grace, interrupts the rest, then refuses new runs', async () => {
    const pool = new ExecutorPool({ maxConcurrent: 4 });
    const release = path.join(tmp.dir, 'release');
    const ready: Promise<void>[] = [];
    const startRun = (command: string) => {
      let onStarted!: () => void;
      ready.push(new Promise<void>((resolve) => (onStarted = resolve)));
      return pool.start(request({ command }), { onStarted });
    };
    const quick = startRun(waitFor(release));
    const slow = startRun('sleep 100');
    await Promise.all(ready);
    const closed = pool.close({ graceMs: 1500 });
    fs.writeFileSync(release, '');
    await closed;
    expect((await quick.result).status).toBe('succeeded');
    const s = await slow.result;
    expect(s.status).toBe('interrupted');
    expect(s.error).toMatch(/shut down/);
    expect(() => pool.start(request({ command: 'true' }))).toThrow(expect.objectContaining({ code: 'SHUTDOWN' }));
  });
});

describe('worker failure', () => {
  it('replaces a pool whose worker failed at bootstrap and still runs the job', async () => {
    const marker = path.join(tmp.dir, 'failed-once');
    const workerFile = path.join(tmp.dir, 'flaky-worker.js');
    const realTask = path.resolve(__dirname, '../../src/workers/run-task.js');
    fs.writeFileSync(
      workerFile,
      `const fs = require('fs');
       if (!fs.existsSync(${JSON.stringify(marker)})) {
         fs.writeFileSync(${JSON.stringify(marker)}, '');
         throw new Error('worker bootstrap failure (test)');
       }
       module.exports = require(${JSON.stringify(realTask)});`,
    );
    const pool = new ExecutorPool({ maxConcurrent: 2, threads: 1, workerFile });
    const r = await pool.start(request({ command: 'echo recovered' })).result;
    expect(fs.existsSync(marker)).toBe(true);
    expect(r).toMatchObject({ status: 'succeeded', output: 'recovered\n' });
    const again = await pool.start(request({ command: 'echo again' })).result;
    expect(again.output).toBe('again\n');
    await pool.close({ graceMs: 0 });
  });

  it('reports a run as failed, never rejects, when the worker cannot load at all', async () => {
    const workerFile = path.join(tmp.dir, 'broken-worker.js');
    fs.writeFileSync(workerFile, "throw new Error('always broken (test)');");
    const pool = new ExecutorPool({ maxConcurrent: 1, workerFile });
    const r = await pool.start(request({ command: 'true' })).result;
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/worker/);
    await pool.close({ graceMs: 0 });
  });
});
