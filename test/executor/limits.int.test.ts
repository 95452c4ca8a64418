/**
 * Limits enforced on real processes: timeout, memory and CPU kill the WHOLE process group.
 */
import { ExecutorPool } from '../../src/actors/executor';
import { isRunning, printedPids, request } from './helpers';

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
    expect(r.peakMemoryBytes).toBeGreaterThan(limit);
  });

  it('reports the peak memory of a run within its limits', async () => {
    const r = await run({ command: 'sleep 0.6', limits: { maxMemoryBytes: 1024 * 1024 * 1024 } });
    expect(r.status).toBe('succeeded');
    expect(r.peakMemoryBytes).toBeGreaterThan(0);
  });
});

describe('CPU limit', () => {
  it('kills a sustained busy loop, naming the limit', async () => {
    const r = await run({ command: 'while :; do :; done', limits: { maxCpuPercent: 20, timeoutMs: 30_000 } });
    expect(r.status).toBe('killed');
    expect(r.error).toMatch(/maxCpuPercent 20/);
  });

  it('leaves an idle process under its CPU limit alone', async () => {
    const r = await run({ command: 'sleep 1', limits: { maxCpuPercent: 20 } });
    expect(r.status).toBe('succeeded');
  });
});
