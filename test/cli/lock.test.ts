/** The data-directory lock: an flock held for exactly as long as its holder lives (kill -9 included). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirLock } from '../../src/cli/lock';
import { SchedulerError } from '../../src/errors';

describe('DataDirLock', () => {
  let dir: string;
  let pidFile: string;
  let lockFile: string;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rae-lock-'));
    pidFile = join(dir, 'rae-sched.pid');
    lockFile = join(dir, 'rae-sched.lock');
  });
  afterEach(async () => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  /** Another process holding the lock (through the same module). */
  async function otherHolder(): Promise<ChildProcess> {
    const code = `const { DataDirLock } = require(${JSON.stringify(require.resolve('../../src/cli/lock'))});
      DataDirLock.acquire(${JSON.stringify(lockFile)}, ${JSON.stringify(pidFile)}); console.log('held'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    return child;
  }

  it('writes our pid, refuses a second holder (even in this process), and frees on release', async () => {
    const lock = DataDirLock.acquire(lockFile, pidFile);
    expect((await readFile(pidFile, 'utf8')).trim()).toBe(String(process.pid));
    expect(() => DataDirLock.acquire(lockFile, pidFile)).toThrow(/\(pid \d+\) already runs/);
    expect(DataDirLock.probe(lockFile, pidFile)).toEqual({ held: true, pid: process.pid });
    lock.release();
    await expect(stat(pidFile)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(DataDirLock.probe(lockFile, pidFile).held).toBe(false);
    DataDirLock.acquire(lockFile, pidFile).release();
  });

  it('refuses while another process holds it, without touching its pid file', async () => {
    const holder = await otherHolder();
    let err: unknown;
    try {
      DataDirLock.acquire(lockFile, pidFile);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SchedulerError);
    expect(err).toMatchObject({ code: 'CONFLICT' });
    expect((await readFile(pidFile, 'utf8')).trim()).toBe(String(holder.pid));
  });

  it('is free once its holder is killed with SIGKILL (no stale lock to judge)', async () => {
    const holder = await otherHolder();
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    const lock = DataDirLock.acquire(lockFile, pidFile);
    expect((await readFile(pidFile, 'utf8')).trim()).toBe(String(process.pid));
    lock.release();
  });

  it('a pid file naming a live unrelated process decides nothing', async () => {
    const other = spawn('sleep', ['30']);
    children.push(other);
    await writeFile(pidFile, `${other.pid}\n`);
    expect(DataDirLock.probe(lockFile, pidFile)).toEqual({ held: false, pid: other.pid });
    const lock = DataDirLock.acquire(lockFile, pidFile);
    lock.release();
  });
});
