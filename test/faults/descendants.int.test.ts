/**
 * Fault suite: descendants that leave the run's process group with setsid (issue 9 item 7). They
 * must be killed at the run's timeout, counted against --max-memory (and in the peak), and cleaned
 * up when a daemon restarts after a kill -9.
 */
import { eventually, rae, startDaemon } from '../cli/harness';
import { detectContainment } from '../../src/workers/run/cgroup-detect';
import { pidsWithEnv, useDaemonDir } from './helpers';
import type { Run } from '../../src/model/run';

jest.setTimeout(180_000);

const fx = useDaemonDir('rae-flt-tree-');
const cli = (...args: string[]) => rae([...args, '--data-dir', fx.dir()], { timeoutMs: 120_000 });


/** Waits until no live process carries the run's marker. */
async function treeGone(runId: string): Promise<void> {
  await eventually(async () => (pidsWithEnv('RAE_SCHED_RUN_ID', runId).length === 0 ? true : undefined),
    `every process of ${runId} to be gone`, 15_000);
}

describe('escaped descendants', () => {
  it('are killed at the timeout: nothing of the run outlives it', async () => {
    const cmd = "setsid sh -c 'sleep 300' & setsid sh -c 'sleep 301' & (setsid sleep 302 &) ; sleep 300";
    expect((await cli('add', 'esc', 'never', cmd, '--timeout', '2s')).code).toBe(0);
    const r = await cli('run', 'esc', '--wait', '--json');
    const run = JSON.parse(r.stdout) as Run;
    expect(run.status).toBe('timeout');
    await treeGone(run.id);
  });

  it('a run that exits normally takes its escaped descendants with it', async () => {
    expect((await cli('add', 'bg', 'never', "setsid sleep 300 & echo started")).code).toBe(0);
    const run = JSON.parse((await cli('run', 'bg', '--wait', '--json')).stdout) as Run;
    expect(run.status).toBe('succeeded');
    await treeGone(run.id);
  });

  it('count against --max-memory and in the peak', async () => {
    const hog = `setsid ${process.execPath} -e "const a=[];setInterval(()=>a.push(Buffer.alloc(16e6,1)),50)" & sleep 300`;
    expect((await cli('add', 'hog', 'never', hog, '--max-memory', '50MB', '--timeout', '60s')).code).toBe(0);
    const run = JSON.parse((await cli('run', 'hog', '--wait', '--json')).stdout) as Run;
    expect(run.status).toBe('killed');
    expect(run.error).toMatch(/memory limit/);
    // Sampled RSS passes the limit before the kill; a cgroup's charge is stopped by the kernel at it.
    if (detectContainment(true).backend === null) expect(run.peakMemoryBytes).toBeGreaterThan(50 * 1024 * 1024);
    else expect(run.peakMemoryBytes).toBeGreaterThanOrEqual(0.9 * 50 * 1024 * 1024);
    await treeGone(run.id);
  });

  it('are cleaned up when a daemon restarts after a kill -9', async () => {
    const first = fx.track(await startDaemon(fx.dir()));
    await cli('add', 'long', 'never', 'setsid sleep 300 & sleep 300');
    const queued = (await cli('run', 'long')).stdout.trim();
    await eventually(async () => (pidsWithEnv('RAE_SCHED_RUN_ID', queued).length >= 2 ? true : undefined), 'both processes', 30_000);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(pidsWithEnv('RAE_SCHED_RUN_ID', queued).length).toBeGreaterThanOrEqual(2); // they survived the crash
    const second = fx.track(await startDaemon(fx.dir()));
    await treeGone(queued);
    const runs = JSON.parse((await cli('history', 'long', '--json')).stdout) as Run[];
    expect(runs.find((x) => x.id === queued)?.status).toBe('interrupted');
    expect(await second.stop()).toBe(0);
  });
});

