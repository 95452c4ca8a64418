/**
 * Fault suite: a full disk (issue 9 item 5), on a small tmpfs mounted by the test (root only; the
 * reason is printed when skipped). Data directory and logs on the same full file system.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, rae, startDaemon, type DaemonHandle } from '../cli/harness';
import { IS_ROOT, skipBecause } from './helpers';

jest.setTimeout(180_000);

// Mounted when the module loads (synchronously), so a machine that cannot mount one reports both
// tests as skipped (jest counts them, with the reason on stderr) instead of passing them vacuously.
let mnt = '';
let mounted = false;
const daemons: DaemonHandle[] = [];
if (!IS_ROOT) {
  skipBecause('full-disk faults', 'not running as root (cannot mount a tmpfs)');
} else {
  mnt = mkdtempSync(join(tmpdir(), 'rae-flt-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mnt]);
    mounted = true;
  } catch (err) {
    skipBecause('full-disk faults', `cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]})`);
  }
}
const maybe = mounted ? it : it.skip;
afterAll(async () => {
  for (const d of daemons) {
    if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
    await d.exited;
  }
  if (mounted) execFileSync('umount', ['-l', mnt]);
  if (mnt) await rm(mnt, { recursive: true, force: true });
});

const fill = () => {
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${join(mnt, 'fill')}`, 'bs=1M'], { stdio: 'ignore' });
  } catch {
    // dd ends with ENOSPC: that is the point
  }
};
const big = 'a'.repeat(60_000);

describe('a full disk', () => {
  maybe('writes are refused with a clear error, the daemon stays up, logs fall back, and it recovers when space returns', async () => {
    const dir = join(mnt, 'data');
    const cli = (...args: string[]) => rae([...args, '--data-dir', dir]);
    expect((await cli('add', 'hourly', 'every 1h', 'true')).code).toBe(0);
    // A floor of 1 MiB: the 24 MiB tmpfs is above it until filled (the default 100 MiB would never clear here).
    const daemon = await startDaemon(dir, ['--min-free-disk', '1MB']);
    daemons.push(daemon);
    expect((await cli('health')).code).toBe(0);
    fill();
    // Each add needs new pages: the first that cannot get them is refused, saying why.
    let refused: { code: number | null; stderr: string } | undefined;
    for (let i = 0; i < 40 && refused === undefined; i++) {
      const r = await cli('add', `big${i}`, 'every 1h', 'true', '--env', `X=${big}`);
      if (r.code !== 0) refused = r;
    }
    expect(refused).toBeDefined();
    expect(refused!.code).toBe(1);
    expect(refused!.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused!.stderr).toMatch(/^rae-sched: error: the disk holding the store is full \(ENOSPC\)/);
    // The daemon is still up and answering, its health naming the full disk; nothing crashed on the log file.
    await eventually(async () => {
      const h = await cli('health', '--json');
      if (h.code !== 1) return undefined;
      const disk = (JSON.parse(h.stdout) as { components: Record<string, { healthy: boolean }> }).components.disk;
      return disk && !disk.healthy ? true : undefined;
    }, 'health to show the full disk', 60_000);
    expect(daemon.child.exitCode).toBeNull();
    const jobs = JSON.parse((await cli('list', '--json')).stdout) as { name: string; state: string }[];
    expect(jobs.find((j) => j.name === 'hourly')?.state).toBe('scheduled');

    await rm(join(mnt, 'fill'));
    // Space is back: writes work again without a restart.
    await eventually(async () => ((await cli('add', 'after-space', 'every 1h', 'true')).code === 0 ? true : undefined), 'an add to succeed again', 60_000);
    // The fault clears from health once space is back.
    await eventually(async () => ((await cli('health')).code === 0 ? true : undefined), 'health to clear', 60_000);
    // (A log line that cannot be written falls back to stderr: test/cli/daemon-log.test.ts, on /dev/full.)
    expect(await daemon.stop('SIGTERM')).toBe(0);
  });

  // A scheduled fire whose durable write fails on the full disk stays armed (the batch is kept and
  // retried with backoff), so the job fires again once space returns — without a restart.
  maybe('a job whose fire failed on the full disk fires again once space returns', async () => {
    const dir = join(mnt, 'data2');
    const cli = (...args: string[]) => rae([...args, '--data-dir', dir]);
    expect((await cli('add', 'tick', 'every 1s', 'true')).code).toBe(0);
    const d = await startDaemon(dir);
    daemons.push(d);
    try {
      fill();
      for (let i = 0; i < 40; i++) if ((await cli('add', `b${i}`, 'every 1h', 'true', '--env', `X=${big}`)).code !== 0) break;
      await new Promise((r) => setTimeout(r, 3000));
      await rm(join(mnt, 'fill'));
      const before = (JSON.parse((await cli('history', 'tick', '--json')).stdout) as unknown[]).length;
      await eventually(async () => {
        const n = (JSON.parse((await cli('history', 'tick', '--json')).stdout) as unknown[]).length;
        return n >= before + 2 ? true : undefined;
      }, 'tick to fire again', 20_000);
    } finally {
      await d.stop('SIGTERM');
    }
  });
});
