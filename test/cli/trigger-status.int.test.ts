/**
 * Issue 11 through the real binary, with and without a daemon: `status` / `why` of a trigger job
 * list each trigger's last fire and the runs it caused (text and `--json`); an `--after` upstream
 * that no longer exists shows in `health` and the dependent's `status` / `why`; `list` / `status`
 * of a one-time schedule typed in words show the words beside the instant.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Health, WhyReport } from '../../src/api';
import type { Job } from '../../src/model/job';
import { rae, startDaemon, withOptions, type DaemonHandle } from './harness';

jest.setTimeout(120_000);

let dir: string;
let daemon: DaemonHandle | null = null;
const cli = (...args: string[]) => rae(withOptions(args, ['--data-dir', dir]));

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rae-trig-'));
});
afterEach(async () => {
  await daemon?.stop();
  daemon = null;
  await rm(dir, { recursive: true, force: true });
});

async function dependentChain(): Promise<void> {
  expect((await cli('add', 'up', 'never', 'true')).code).toBe(0);
  expect((await cli('add', 'dep', 'never', 'true', '--after', 'up')).code).toBe(0);
}

describe.each([['without a daemon', false], ['through a daemon', true]])('%s', (_, withDaemon) => {
  beforeEach(async () => {
    if (withDaemon) daemon = await startDaemon(dir);
  });

  it('status and why of an --after job show its last fire and run; a removed upstream is reported in health, status and why', async () => {
    await dependentChain();
    expect((await cli('run', 'up', '--wait')).code).toBe(0);
    let why: WhyReport | undefined;
    for (let i = 0; i < 100 && why?.triggers[0]?.fires !== 1; i++) {
      why = JSON.parse((await cli('why', 'dep', '--json')).stdout) as WhyReport;
    }
    const depRun = why!.triggers[0]!.lastRunId!;
    expect(why!.triggers[0]).toMatchObject({ text: 'after up succeeded', fires: 1, runs: 1, recentRunIds: [depRun], upstreamExists: true });
    const status = await cli('status', 'dep');
    expect(status.stdout).toMatch(new RegExp(`trigger: +after up succeeded — last fired (now|\\d+s ago) \\(${depRun}\\), 1 fire: 1 run\\n`));
    const statusJson = JSON.parse((await cli('status', 'dep', '--json')).stdout) as Job;
    expect(statusJson.triggerStatus![0]).toMatchObject({ fires: 1, lastRunId: depRun });
    expect((await cli('why', 'dep')).stdout).toMatch(new RegExp(`triggers:\\n  - after up succeeded — last fired .*\\n      reason: after up succeeded \\(run_\\w+\\)\\n      runs:   ${depRun}\\n`));

    expect((await cli('remove', 'up')).code).toBe(0);
    const h = await cli('health', '--json');
    const health = JSON.parse(h.stdout) as Health;
    expect(health.components.dependencies).toEqual({
      healthy: true, degraded: true, detail: "1 job waits on a job that no longer exists (never fires): dep --after 'up'",
    });
    // A daemon that works is healthy though degraded (exit 0); without one, health is down (exit 1) either way.
    expect(h.code).toBe(withDaemon ? 0 : 1);
    expect((await cli('health')).stdout).toMatch(/dependencies +degraded +- +1 job waits on a job that no longer exists/);
    expect((await cli('status', 'dep')).stdout).toContain("'up' no longer exists: it can never fire");
    expect((await cli('why', 'dep')).stdout).toContain("--after 'up': no such job any more");
  });

  it('list and status of a one-time schedule typed in words show the words and the instant in the job\'s zone', async () => {
    expect((await cli('add', 'meet', 'tomorrow at 9am', 'true', '--tz', 'Europe/Paris')).code).toBe(0);
    const job = JSON.parse((await cli('status', 'meet', '--json')).stdout) as Job;
    expect(job.scheduleText).toBe('tomorrow at 9am');
    expect(job.schedule).toMatch(/^at \d{4}-\d\d-\d\dT0[78]:00:00\.000Z$/);
    const day = new Date(job.schedule.slice(3)).toLocaleDateString('sv-SE', { timeZone: 'Europe/Paris' });
    const shown = `tomorrow at 9am (${day} 09:00 Europe/Paris)`;
    expect((await cli('list')).stdout).toContain(shown);
    expect((await cli('status', 'meet')).stdout).toMatch(new RegExp(`schedule: +${shown.replace(/[()]/g, '\\$&')}\\n`));
  });
});
