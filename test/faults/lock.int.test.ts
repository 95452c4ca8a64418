/**
 * Fault suite: two daemons on one data directory (issue 9 item 1), a daemon start next to a
 * foreground `rae-sched run` (item 2), and signals during start-up (item 11). Real binary, real
 * processes, temp data directories.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN, eventually, rae, socketGet, startDaemon, type DaemonHandle } from '../cli/harness';
import { alive, pidsWithEnv, tempDir } from './helpers';

jest.setTimeout(180_000);

let dir: string;
let cleanup: () => Promise<void>;
const daemons: DaemonHandle[] = [];
beforeEach(async () => ({ dir, cleanup } = await tempDir('rae-flt-lock-')));
afterEach(async () => {
  for (const d of daemons.splice(0)) {
    if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
    await d.exited;
  }
  await cleanup();
});

const cli = (...args: string[]) => rae([...args, '--data-dir', dir]);

/** Starts a daemon through a symlink whose name does not contain "rae-sched". */
async function daemonViaSymlink(): Promise<DaemonHandle> {
  const link = join(dir, 'svc');
  await symlink(BIN, link);
  const d = await startDaemon(dir, [], link);
  daemons.push(d);
  return d;
}

/** The run id of the running run of `job`, once its process runs. */
async function runningRun(job: string): Promise<string> {
  return eventually(async () => {
    const runs = JSON.parse((await cli('history', job, '--json')).stdout) as { id: string; status: string }[];
    const r = runs.find((x) => x.status === 'running');
    return r && pidsWithEnv('RAE_SCHED_RUN_ID', r.id).length > 0 ? r.id : undefined;
  }, `a running run of ${job}`, 60_000);
}

describe('two daemons on one data directory', () => {
  it('a second daemon, with the first started through a symlink, exits 1 and touches nothing', async () => {
    const first = await daemonViaSymlink();
    await cli('add', 'long', 'never', 'sleep 300');
    await cli('run', 'long');
    const runId = await runningRun('long');
    const [jobPid] = pidsWithEnv('RAE_SCHED_RUN_ID', runId);
    const pidFile = join(dir, 'rae-sched.pid');
    const pidBefore = await readFile(pidFile, 'utf8');

    const second = await rae(['daemon', '--data-dir', dir]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/^rae-sched: error: .*already runs/m);
    expect(second.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    // Nothing of the first daemon's was touched: its run's process, its pid file, its socket.
    expect(alive(jobPid!)).toBe(true);
    expect(await readFile(pidFile, 'utf8')).toBe(pidBefore);
    expect((await socketGet(first.socket, '/v1/health')).status).toBe(200);
    const runs = JSON.parse((await cli('history', 'long', '--json')).stdout) as { id: string; status: string }[];
    expect(runs.find((r) => r.id === runId)?.status).toBe('running');
    expect(await first.stop()).toBe(0);
  });

  it.each(['stale (dead pid)', 'stale (pid of another live program)'])(
    'two daemons racing with a %s pid file: exactly one runs, the other exits 1', async (kind) => {
      let foreign: ReturnType<typeof spawn> | undefined;
      let pid: number;
      if (kind.includes('dead')) {
        const gone = spawn(process.execPath, ['-e', '0']);
        pid = gone.pid!;
        await new Promise((r) => gone.once('exit', r));
      } else {
        foreign = spawn('sleep', ['300']);
        pid = foreign.pid!;
      }
      await writeFile(join(dir, 'rae-sched.pid'), `${pid}\n`);
      try {
        const start = () => spawn(process.execPath, [BIN, 'daemon', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
        const a = start();
        const b = start();
        const outcome = (c: ReturnType<typeof start>) => {
          let err = '';
          c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
          return new Promise<{ code: number | null; err: string }>((r) => c.once('exit', (code) => r({ code, err })));
        };
        const [oa, ob] = [outcome(a), outcome(b)];
        // The loser exits on its own; the winner keeps running until we stop it.
        const loser = await Promise.race([oa.then((o) => ({ ...o, who: a })), ob.then((o) => ({ ...o, who: b }))]);
        expect(loser.code).toBe(1);
        expect(loser.err).toMatch(/already runs/);
        const winner = loser.who === a ? b : a;
        await eventually(async () => (await socketGet(join(dir, 'rae-sched.sock'), '/v1/health').then((r) => r.status, () => 0)) === 200 || undefined,
          'the winner to answer', 60_000);
        expect(winner.exitCode).toBeNull();
        expect((await readFile(join(dir, 'rae-sched.pid'), 'utf8')).trim()).toBe(String(winner.pid));
        if (foreign) expect(alive(foreign.pid!)).toBe(true);
        winner.kill('SIGTERM');
        expect((await (loser.who === a ? ob : oa)).code).toBe(0);
      } finally {
        foreign?.kill('SIGKILL');
      }
    });
});

describe('a daemon start next to a foreground run', () => {
  it('does not kill an offline `rae-sched run` (its owner is alive)', async () => {
    const flag = join(dir, 'started');
    expect((await cli('add', 'fg', 'never', `touch ${flag}; sleep 6; echo finished`)).code).toBe(0);
    const fg = rae(['run', 'fg', '--wait', '--json', '--data-dir', dir], { timeoutMs: 120_000 });
    await eventually(async () => stat(flag).then(() => true, () => undefined), 'the foreground run to start', 60_000);
    const d = await startDaemon(dir);
    daemons.push(d);
    const r = await fg;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'succeeded', output: 'finished\n' });
    expect(await d.stop()).toBe(0);
  });
});

describe('signals during start-up', () => {
  // Node's own bootstrap (before any of our code runs) cannot be covered: a signal there ends the
  // process by the signal, and then it must not have created anything. From the first line of
  // bin/rae-sched on, a stop signal must end in a clean exit 0 with the lock and socket removed.
  it.each([0, 60, 150, 300, 600, 2500])('a SIGTERM %ims after spawn: exit 0 with clean-up, or killed before creating anything', async (delay) => {
    const child = spawn(process.execPath, [BIN, 'daemon', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | string | null>((r) => child.once('exit', (code, sig) => r(code ?? sig)));
    await new Promise((r) => setTimeout(r, delay));
    child.kill('SIGTERM');
    const code = await exited;
    const left = (await readdir(dir)).filter((n) => ['rae-sched.pid', 'rae-sched.sock', 'rae-sched.lock', 'store'].includes(n));
    if (code === 'SIGTERM') expect(left).toEqual([]);
    else {
      expect({ code, errors: err.split('\n').filter((l) => l.includes('rae-sched: error')) }).toEqual({ code: 0, errors: [] });
      expect(left.filter((n) => n !== 'rae-sched.lock' && n !== 'store')).toEqual([]);
    }
    if (delay >= 2500) expect(code).toBe(0);
  });
});
