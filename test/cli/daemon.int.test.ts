/**
 * The real binary with a real daemon (spawned by the test) on a temp data directory: the walking
 * skeleton, the control socket, the lock, events, run --wait, backup/restore, graceful stop.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '../../src/model/job';
import type { Run } from '../../src/model/run';
import { BIN, type DaemonHandle, eventually, expectUsageError, rae, socketGet, startDaemon, withOptions } from './harness';

jest.setTimeout(120_000);

let dir: string;
let daemon: DaemonHandle;
// $RAE_SCHED_HOME points into the temp dir too, so a command missing its --data-dir never touches ~.
const cli = (...args: string[]) => rae(withOptions(args, ['--data-dir', dir]), { env: { RAE_SCHED_HOME: join(dir, 'not-home') } });
const names = async (): Promise<string[]> => (JSON.parse((await cli('list', '--json')).stdout) as Job[]).map((j) => j.name).sort();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rae-d-'));
  daemon = await startDaemon(dir, ['--grace', '2s']);
});
afterAll(async () => {
  if (daemon.child.exitCode === null && daemon.child.signalCode === null) daemon.child.kill('SIGKILL');
  await daemon.exited;
  await rm(dir, { recursive: true, force: true });
});

describe('with a daemon', () => {
  it('walking skeleton: add a 1s job, see >= 3 succeeded runs, list, remove', async () => {
    const out = join(dir, 'out');
    const add = await cli('add', 'tick', 'every 1s', `echo tick >> ${out}`);
    expect(add.code).toBe(0);
    expect(add.stdout.trim()).toMatch(/^job_/);

    const runs = await eventually(async () => {
      const r = await cli('history', 'tick', '--json');
      const list = JSON.parse(r.stdout) as Run[];
      return list.filter((x) => x.status === 'succeeded').length >= 3 ? list : undefined;
    }, '3 succeeded runs of tick', 60_000);
    expect(runs.filter((r) => r.status === 'succeeded' && r.trigger === 'schedule').length).toBeGreaterThanOrEqual(3);
    expect((await readFile(out, 'utf8')).split('\n').filter((l) => l === 'tick').length).toBeGreaterThanOrEqual(3);

    const list = await cli('list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/tick\s+job_\S+\s+every 1s/);
    expect((await cli('remove', 'tick')).code).toBe(0);
    expect(await names()).toEqual([]);
  });

  it('serves the control API on a 0600 socket, curl-style', async () => {
    expect((await stat(daemon.socket)).mode & 0o777).toBe(0o600);
    const res = await socketGet(daemon.socket, '/v1/jobs');
    expect(res.status).toBe(200);
    expect(Array.isArray(JSON.parse(res.body))).toBe(true);
  });

  it('refuses a second daemon on the same data directory', async () => {
    const second = await rae(['daemon', '--data-dir', dir]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/^rae-sched: error: .*already/m);
    expect((await socketGet(daemon.socket, '/v1/health')).status).toBe(200);
  });

  it('reports health, stats and metrics', async () => {
    const health = await cli('health', '--json');
    expect(JSON.parse(health.stdout)).toMatchObject({ healthy: expect.any(Boolean), components: expect.any(Object) });
    expect(health.code).toBe(JSON.parse(health.stdout).healthy ? 0 : 1);
    const stats = await cli('stats', '--json');
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toHaveProperty('runs.total');
    const metrics = await cli('metrics');
    expect(metrics.code).toBe(0);
    expect(metrics.stdout).toMatch(/^# (HELP|TYPE) /m);
  });

  it('run prints the run id; run --wait exits 0 iff the run succeeded', async () => {
    await cli('add', 'ok', 'never', 'echo fine');
    await cli('add', 'bad', 'never', 'exit 7');
    const fire = await cli('run', 'ok');
    expect(fire.code).toBe(0);
    expect(fire.stdout.trim()).toMatch(/^run_\S+$/);

    const ok = await cli('run', 'ok', '--wait', '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ status: 'succeeded', exitCode: 0 });
    const bad = await cli('run', 'bad', '--wait', '--json');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ status: 'failed', exitCode: 7 });
    const missing = await cli('run', 'nope', '--wait');
    expect(missing.code).toBe(1);
    expect((await cli('why', 'ok')).code).toBe(0);
  });

  it('events --json streams NDJSON lines while a job runs, until interrupted', async () => {
    await cli('add', 'ev', 'never', 'echo ev');
    const child = spawn(process.execPath, [BIN, 'events', '--json', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      // The stream opens asynchronously: fire until a finished run of `ev` shows up on it.
      await eventually(async () => {
        await cli('run', 'ev', '--wait');
        // Only a run that started after the stream opened shows both events.
        return out.includes('"run.started"') && out.includes('"run.finished"') ? true : undefined;
      }, 'a run.finished event', 60_000);
      const events = out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; at: string });
      expect(events.every((e) => typeof e.type === 'string' && typeof e.at === 'string')).toBe(true);
      expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['run.started', 'run.finished']));
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('backup/restore round-trips; a bad restore file changes nothing', async () => {
    await cli('add', 'keep-a', 'every 1h', 'true');
    await cli('add', 'keep-b', 'never', '--', 'echo', 'b');
    const backup = join(dir, 'backup.json');
    const b = await cli('backup', backup, '--json');
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout).jobs).toBeGreaterThanOrEqual(2);
    const before = await names();

    expect((await cli('remove', 'keep-a')).code).toBe(0);
    const r = await cli('restore', backup);
    expect(r.code).toBe(0);
    expect(await names()).toEqual(before);

    const doc = JSON.parse(await readFile(backup, 'utf8'));
    doc.jobs.push({ ...doc.jobs[0], id: 'job_broken', name: 42 });
    const badFile = join(dir, 'bad-backup.json');
    await writeFile(badFile, JSON.stringify(doc));
    await cli('remove', 'keep-b');
    const bad = await cli('restore', badFile);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(await names()).toEqual(before.filter((n) => n !== 'keep-b'));
  });

  it('SIGTERM: shuts down, removes the socket and lock, exits 0', async () => {
    expect(await daemon.stop('SIGTERM')).toBe(0);
    await expect(stat(daemon.socket)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(join(dir, 'rae-sched.pid'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(join(dir, 'logs', 'daemon.log'), 'utf8')).toMatch(/"msg":"daemon stopped"/);
    const after = await cli('health');
    expect(after.code).toBe(1);
    expectUsageError(await cli('add', 'x', 'every 1s', 'true', '--overlap', 'never'), '--overlap');
  });
});
