/**
 * Fault suite: a real `kill -9` of `bin/rae-sched daemon` while runs execute (not simulated by
 * writing to the store). At the next start the runs that were in flight are recorded
 * `interrupted`, the processes they left running are killed, and retries follow each job's
 * policy: a job with `--retries 1` gets its second attempt (which succeeds here), a job with none
 * gets nothing more. (test/scheduler/crash.int.test.ts kills a library scheduler mid-batch and
 * checks every slot; test/faults/descendants.int.test.ts checks escaped descendants.)
 */
import { join } from 'node:path';
import { eventually, rae, startDaemon } from '../cli/harness';
import { pidsWithEnv, useDaemonDir } from './helpers';

jest.setTimeout(180_000);

const fx = useDaemonDir('rae-flt-k9-');
const cli = (...args: string[]) => rae([...args, '--data-dir', fx.dir()], { timeoutMs: 120_000 });

interface RunJson { id: string; status: string; attempt: number; trigger: string; error: string | null }

describe('kill -9 of the daemon during runs', () => {
  it('records the runs interrupted, kills their processes at restart, retries them by policy', async () => {
    const first = fx.track(await startDaemon(fx.dir()));
    const marker = join(fx.dir(), 'attempted');
    // First attempt: leaves a marker and hangs; the retry finds the marker and succeeds.
    expect((await cli('add', 'again', 'never', `if [ -e ${marker} ]; then exit 0; fi; touch ${marker}; sleep 300`, '--retries', '1', '--backoff', '1s')).code).toBe(0);
    expect((await cli('add', 'once', 'never', 'sleep 300')).code).toBe(0);
    const again = (await cli('run', 'again')).stdout.trim();
    const once = (await cli('run', 'once')).stdout.trim();
    await eventually(async () => (pidsWithEnv('RAE_SCHED_RUN_ID', again).length > 0 && pidsWithEnv('RAE_SCHED_RUN_ID', once).length > 0 ? true : undefined),
      'both runs executing', 30_000);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    // Their processes outlive the daemon (own process groups)...
    expect(pidsWithEnv('RAE_SCHED_RUN_ID', once).length).toBeGreaterThan(0);

    const second = fx.track(await startDaemon(fx.dir()));
    // ...until the next start kills them.
    await eventually(async () => (pidsWithEnv('RAE_SCHED_RUN_ID', again).length + pidsWithEnv('RAE_SCHED_RUN_ID', once).length === 0 ? true : undefined),
      'the orphaned processes to be killed', 15_000);
    const history = async (job: string): Promise<RunJson[]> => JSON.parse((await cli('history', job, '--json')).stdout) as RunJson[];
    const retried = await eventually(async () => {
      const runs = await history('again');
      return runs.some((r) => r.attempt === 2 && r.status === 'succeeded') ? runs : undefined;
    }, 'the retry of the interrupted run to succeed', 30_000);
    expect(retried.find((r) => r.id === again)?.status).toBe('interrupted');
    expect(retried.filter((r) => r.trigger === 'retry')).toHaveLength(1);
    const onceRuns = await history('once');
    expect(onceRuns.find((r) => r.id === once)?.status).toBe('interrupted');
    // No retries configured: nothing more ran.
    expect(onceRuns).toHaveLength(1);
    expect(await second.stop()).toBe(0);
  });
});
