/** The daemon's pid-file lock: exclusive while the holder lives, taken over once it is gone. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PidLock } from '../../src/cli/lock';
import { SchedulerError } from '../../src/errors';

describe('PidLock', () => {
  let dir: string;
  let pidFile: string;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rae-lock-'));
    pidFile = join(dir, 'rae-sched.pid');
  });
  afterEach(async () => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  /** A live process whose command line looks like a daemon's. */
  async function liveHolder(): Promise<number> {
    const child = spawn(process.execPath, ['-e', 'console.log("up"); setInterval(() => {}, 1000)', 'rae-sched', 'daemon'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(child);
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    return child.pid!;
  }

  it('writes our pid and removes it on release', async () => {
    const lock = await PidLock.acquire(pidFile);
    expect((await readFile(pidFile, 'utf8')).trim()).toBe(String(process.pid));
    await lock.release();
    await expect(stat(pidFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses while a live daemon holds it', async () => {
    const pid = await liveHolder();
    await writeFile(pidFile, `${pid}\n`);
    await expect(PidLock.acquire(pidFile)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(PidLock.acquire(pidFile)).rejects.toBeInstanceOf(SchedulerError);
    expect((await readFile(pidFile, 'utf8')).trim()).toBe(String(pid));
  });

  it('takes over a lock whose holder is gone, or whose pid now belongs to another program', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = child.pid!;
    await new Promise((resolve) => child.once('exit', resolve));
    await writeFile(pidFile, `${deadPid}\n`);
    const lock = await PidLock.acquire(pidFile);
    await lock.release();

    const other = spawn('sleep', ['30']);
    children.push(other);
    await writeFile(pidFile, `${other.pid}\n`);
    await (await PidLock.acquire(pidFile)).release();

    await writeFile(pidFile, 'garbage');
    await (await PidLock.acquire(pidFile)).release();
  });
});
