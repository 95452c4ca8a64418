/**
 * Limits enforced on real processes: timeout and memory kill the WHOLE process group; CPU kills it
 * under the /proc marker scan and is throttled by the kernel in a run's cgroup (docs/jobs.md).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutorPool } from '../../src/actors/executor';
import { containment } from '../../src/workers/run/cgroup-detect';
import { isRunning, printedPids, request } from './helpers';

const KIND = containment().kind;
const MOUNT_OF = (controller: string): string => {
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .find((l) => / - cgroup /.test(l) && l.split(' - ')[1]!.split(' ')[2]!.split(',').includes(controller));
  return line!.split(' ')[4]!;
};

let pool: ExecutorPool;
beforeAll(() => {
  pool = new ExecutorPool({ maxConcurrent: 4 });
});
afterAll(() => pool.close({ graceMs: 0 }));

const run = (over: Parameters<typeof request>[0]) => pool.start(request(over)).result;

describe('timeout', () => {
  it('kills the whole group, grandchildren included, and reports timeout', async () => {
    const r = await run({ command: 'echo $$; sleep 100 & echo $!; sleep 100', limits: { timeoutMs: 300 } });
    expect(r).toMatchObject({ status: 'timeout', signal: 'SIGTERM' });
    expect(r.error).toMatch(/timeoutMs 300/);
    const pids = printedPids(r.output);
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
  });

  it('escalates to SIGKILL when the group ignores SIGTERM', async () => {
    const r = await run({
      command: "trap '' TERM; sleep 100 & echo $!; wait",
      limits: { timeoutMs: 300 },
      killGraceMs: 300,
    });
    expect(r).toMatchObject({ status: 'timeout', signal: 'SIGKILL' });
    const [grandchild] = printedPids(r.output);
    expect(isRunning(grandchild!)).toBe(false);
  });
});

describe('memory limit', () => {
  it('kills a process that grows past maxMemoryBytes, naming the limit', async () => {
    // Grows to ~400 MB in 10 MB steps, then idles: whatever the sampling cadence, it ends over the limit.
    const grow =
      'const a=[];let n=0;setInterval(()=>{if(n++<40)a.push(Buffer.alloc(10*1024*1024,1))},20);setTimeout(()=>{},60000)';
    const limit = 100 * 1024 * 1024;
    const r = await run({ command: { argv: [process.execPath, '-e', grow] }, limits: { maxMemoryBytes: limit, timeoutMs: 30_000 } });
    expect(r.status).toBe('killed');
    expect(r.error).toMatch(/maxMemoryBytes/);
    // In a cgroup the kernel never lets the charge pass the limit: the peak reaches it.
    if (KIND === 'proc') expect(r.peakMemoryBytes).toBeGreaterThan(limit);
    else expect(r.peakMemoryBytes).toBeGreaterThanOrEqual(limit * 0.9);
  });

  it('reports the peak memory of a run within its limits', async () => {
    const r = await run({ command: 'sleep 0.6', limits: { maxMemoryBytes: 1024 * 1024 * 1024 } });
    expect(r.status).toBe('succeeded');
    expect(r.peakMemoryBytes).toBeGreaterThan(0);
  });
});

describe('CPU limit', () => {
  (KIND === 'proc' ? it : it.skip)('kills a sustained busy loop, naming the limit (/proc marker scan)', async () => {
    const r = await run({ command: 'while :; do :; done', limits: { maxCpuPercent: 20, timeoutMs: 30_000 } });
    expect(r.status).toBe('killed');
    expect(r.error).toMatch(/maxCpuPercent 20/);
  });

  (KIND === 'cgroup1' ? it : it.skip)('throttles a busy loop in its cgroup v1 group: the kernel counts the throttling', async () => {
    // The loop writes its pid; its group (from /proc/PID/cgroup) shows cpu.stat while it runs.
    const dir = await mkdtemp(join(tmpdir(), 'rae-cpu-'));
    const handle = pool.start(request({
      command: `echo $$ > ${dir}/pid; while :; do :; done`, limits: { maxCpuPercent: 20, timeoutMs: 60_000 },
    }));
    let pid = '';
    for (let i = 0; i < 400 && pid === ''; i++) {
      pid = await readFile(join(dir, 'pid'), 'utf8').then((t) => t.trim(), () => '');
      if (pid === '') await new Promise((r) => setTimeout(r, 25));
    }
    const cpuPath = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => /^\d+:cpu:/.test(l))!.split(':')[2]!;
    const stat = () => readFileSync(join(MOUNT_OF('cpu'), cpuPath, 'cpu.stat'), 'utf8');
    expect(readFileSync(join(MOUNT_OF('cpu'), cpuPath, 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('20000');
    let throttled = 0;
    for (let i = 0; i < 400 && throttled < 5; i++) {
      throttled = Number(/nr_throttled (\d+)/.exec(stat())![1]);
      if (throttled < 5) await new Promise((r) => setTimeout(r, 25));
    }
    expect(throttled).toBeGreaterThanOrEqual(5); // periods in which the kernel stopped it at its quota
    handle.cancel('manual');
    const r = await handle.result;
    expect(r.status).toBe('killed'); // cancelled by us, not by the limit: a throttled run keeps running
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves an idle process under its CPU limit alone', async () => {
    const r = await run({ command: 'sleep 1', limits: { maxCpuPercent: 20 } });
    expect(r.status).toBe('succeeded');
  });
});
