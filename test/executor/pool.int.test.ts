/**
 * The pool itself: cancel, many concurrent long runs in one run host process, close with grace,
 * and recovery from a run host that fails at boot or dies under its runs.
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
  it('runs 20 long-running processes at once from 2 run hosts', async () => {
    const pool = new ExecutorPool({ maxConcurrent: 20, hosts: 2 });
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

describe('run host', () => {
  const realHost = path.resolve(__dirname, '../../src/workers/run-host.js');

  it('keeps its host processes for the next runs instead of booting new ones', async () => {
    const boots = path.join(tmp.dir, 'boots');
    const hostFile = path.join(tmp.dir, 'counting-host.js');
    fs.writeFileSync(hostFile, `require('fs').appendFileSync(${JSON.stringify(boots)}, 'boot\\n');\nrequire(${JSON.stringify(realHost)});`);
    const pool = new ExecutorPool({ maxConcurrent: 2, hosts: 2, hostFile });
    // Two runs that block until both have started run at once: the second boots the second host
    // (the first has a run in flight); the next pair goes to the same two hosts.
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
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await pair(path.join(tmp.dir, 'go2'))).toEqual(['succeeded', 'succeeded']);
    await pool.close({ graceMs: 0 });
    expect(fs.readFileSync(boots, 'utf8')).toBe('boot\nboot\n');
  });

  it('one run at a time keeps to one host', async () => {
    const boots = path.join(tmp.dir, 'boots-seq');
    const hostFile = path.join(tmp.dir, 'counting-host-seq.js');
    fs.writeFileSync(hostFile, `require('fs').appendFileSync(${JSON.stringify(boots)}, 'boot\\n');\nrequire(${JSON.stringify(realHost)});`);
    const pool = new ExecutorPool({ maxConcurrent: 4, hosts: 4, hostFile });
    for (let i = 0; i < 3; i++) expect((await pool.start(request({ command: { argv: ['/bin/true'] } })).result).status).toBe('succeeded');
    await pool.close({ graceMs: 0 });
    expect(fs.readFileSync(boots, 'utf8')).toBe('boot\n');
  });

  it('spawns from a process of its own, not from the scheduler', async () => {
    const pool = new ExecutorPool({ maxConcurrent: 1 });
    const r = await pool.start(request({ command: 'echo $PPID' })).result;
    await pool.close({ graceMs: 0 });
    const ppid = Number(r.output.trim());
    expect(ppid).toBeGreaterThan(0);
    expect(ppid).not.toBe(process.pid);
  });

  it('a host killed under its runs: the spawned run fails saying so, its process group is killed, the next run works', async () => {
    const pool = new ExecutorPool({ maxConcurrent: 2 });
    let pid = 0;
    let onStarted!: () => void;
    const started = new Promise<void>((resolve) => (onStarted = resolve));
    const running = pool.start(request({ command: 'sleep 100' }), { onStarted: (i) => { pid = i.pid!; onStarted(); } }).result;
    await started;
    // The job's parent is the host: find it from the job's /proc entry and kill it.
    const host = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    expect(host).not.toBe(process.pid);
    process.kill(host, 'SIGKILL');
    const r = await running;
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/run host/);
    for (let i = 0; i < 100 && isRunning(pid); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(isRunning(pid)).toBe(false);
    expect((await pool.start(request({ command: 'echo again' })).result).output).toBe('again\n');
    await pool.close({ graceMs: 0 });
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

describe('run host failure', () => {
  it('replaces a host that failed at boot and still runs the job', async () => {
    const marker = path.join(tmp.dir, 'failed-once');
    const hostFile = path.join(tmp.dir, 'flaky-host.js');
    const realHost = path.resolve(__dirname, '../../src/workers/run-host.js');
    fs.writeFileSync(
      hostFile,
      `const fs = require('fs');
       if (!fs.existsSync(${JSON.stringify(marker)})) {
         fs.writeFileSync(${JSON.stringify(marker)}, '');
         throw new Error('host boot failure (test)');
       }
       require(${JSON.stringify(realHost)});`,
    );
    const pool = new ExecutorPool({ maxConcurrent: 2, hostFile });
    const r = await pool.start(request({ command: 'echo recovered' })).result;
    expect(fs.existsSync(marker)).toBe(true);
    expect(r).toMatchObject({ status: 'succeeded', output: 'recovered\n' });
    const again = await pool.start(request({ command: 'echo again' })).result;
    expect(again.output).toBe('again\n');
    await pool.close({ graceMs: 0 });
  });

  it('reports a run as failed, never rejects, when the host cannot load at all', async () => {
    const hostFile = path.join(tmp.dir, 'broken-host.js');
    fs.writeFileSync(hostFile, "throw new Error('always broken (test)');");
    const pool = new ExecutorPool({ maxConcurrent: 1, hostFile });
    const r = await pool.start(request({ command: 'true' })).result;
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/run host/);
    await pool.close({ graceMs: 0 });
  });
});
