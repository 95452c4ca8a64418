/**
 * Fault suite: kernel containment of a run's process tree (issue 9 item 7, docs/jobs.md
 * "Containment"). A descendant that leaves the process group with `setsid` AND clears its
 * environment (`env -i`) is invisible to the /proc marker scan; in the run's cgroup it stays
 * contained: killed at the timeout, at the run's end, and at the next start after a `kill -9`;
 * a memory hog is stopped by the kernel. Where no cgroup can be made here, each test says so and
 * checks the fallback instead.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectContainment } from '../../src/workers/run/cgroup-detect';
import { ownerAlive } from '../../src/workers/run/job-env';
import { eventually, rae, startDaemon } from '../cli/harness';
import { pidsWithEnv, skipBecause, useDaemonDir } from './helpers';
import type { Run } from '../../src/model/run';

jest.setTimeout(180_000);

const FOUND = detectContainment(true);
const CONTAINED = FOUND.backend !== null;
beforeAll(() => {
  if (!CONTAINED) skipBecause('kernel containment', `${FOUND.summary}: the fallback is checked instead`);
});

const fx = useDaemonDir('rae-flt-cg-');
const cli = (...args: string[]) => rae([...args, '--data-dir', fx.dir()], { timeoutMs: 120_000 });


/** Live pids whose command line is exactly `argv` (the env-less escapee has no marker to find it by). */
function pidsRunning(...argv: string[]): number[] {
  const want = `${argv.join('\0')}\0`;
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'latin1') !== want) continue;
      const stat = readFileSync(`/proc/${e}/stat`, 'latin1');
      if (!/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}
const killAll = (pids: number[]) => pids.forEach((p) => { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } });

/** Owner groups (`owner-PID-START`) whose scheduler is gone: what must never be left behind. */
function staleOwnerGroups(): string[] {
  const out: string[] = [];
  for (const h of FOUND.backend?.hierarchies ?? []) {
    let names: string[] = [];
    try {
      names = readdirSync(h.base);
    } catch {
      continue;
    }
    for (const n of names) if (n.startsWith('owner-') && !ownerAlive(n.slice(6).replace('-', ':'))) out.push(join(h.base, n));
  }
  return out;
}

/** Asserts that the escapee `sleep SECS` is gone (contained), or, on the fallback, documents that it is not. */
async function escapeeGone(secs: string): Promise<void> {
  if (!CONTAINED) {
    // The marker scan's documented limit: an env-less escapee is not seen. Clean up after it.
    const left = pidsRunning('sleep', secs);
    expect(left.length).toBeGreaterThanOrEqual(1);
    killAll(left);
    return;
  }
  await eventually(async () => (pidsRunning('sleep', secs).length === 0 ? true : undefined), `sleep ${secs} to be killed`, 15_000);
}

describe('kernel containment of a run', () => {
  it('doctor and health say which mechanism is in force', async () => {
    const doc = await cli('doctor');
    expect(doc.stdout).toMatch(new RegExp(`containment\\s+${FOUND.summary.replace(/[()/.]/g, '\\$&')}`));
    const d = fx.track(await startDaemon(fx.dir()));
    const health = JSON.parse((await cli('health', '--json')).stdout) as { components: Record<string, { detail?: string }> };
    expect(health.components.containment?.detail).toBe(FOUND.summary);
    expect(await d.stop()).toBe(0);
  });

  it('an env -i setsid grandchild is killed at the timeout', async () => {
    expect((await cli('add', 't', 'never', 'env -i setsid sleep 31301 & sleep 300', '--timeout', '2s')).code).toBe(0);
    const run = JSON.parse((await cli('run', 't', '--wait', '--json')).stdout) as Run;
    expect(run.status).toBe('timeout');
    await escapeeGone('31301');
  });

  it('an env -i setsid grandchild is killed when the run ends normally', async () => {
    expect((await cli('add', 'e', 'never', 'env -i setsid sleep 31302 & echo started')).code).toBe(0);
    const run = JSON.parse((await cli('run', 'e', '--wait', '--json')).stdout) as Run;
    expect(run.status).toBe('succeeded');
    await escapeeGone('31302');
  });

  it('a setsid memory hog under --max-memory 50MB is stopped, the run killed naming the limit', async () => {
    const hog = `env -i setsid ${process.execPath} -e "const a=[];setInterval(()=>a.push(Buffer.alloc(16e6,1)),50)" & sleep 300`;
    expect((await cli('add', 'hog', 'never', hog, '--max-memory', '50MB', '--timeout', '60s')).code).toBe(0);
    const run = JSON.parse((await cli('run', 'hog', '--wait', '--json')).stdout) as Run;
    if (!CONTAINED) {
      // Fallback: the env-less hog is not seen; only the timeout ends the run (documented limit).
      expect(run.status).toBe('timeout');
      return;
    }
    expect(run.status).toBe('killed');
    expect(run.error).toMatch(/memory limit.*OOM/);
    expect(run.peakMemoryBytes).toBeGreaterThanOrEqual(0.9 * 50 * 1024 * 1024);
    expect(run.peakMemoryBytes).toBeLessThanOrEqual(50 * 1024 * 1024); // the kernel never let it pass
  });

  it('a daemon kill -9 then restart removes the stale group and kills its processes', async () => {
    const first = fx.track(await startDaemon(fx.dir()));
    expect((await cli('add', 'long', 'never', 'env -i setsid sleep 31303 & sleep 300')).code).toBe(0);
    const queued = (await cli('run', 'long')).stdout.trim();
    await eventually(async () => (pidsRunning('sleep', '31303').length === 1 && pidsWithEnv('RAE_SCHED_RUN_ID', queued).length >= 1 ? true : undefined),
      'the run and its escapee', 30_000);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(pidsRunning('sleep', '31303')).toHaveLength(1); // it survived the crash
    if (CONTAINED) expect(staleOwnerGroups().length).toBeGreaterThanOrEqual(1);
    const second = fx.track(await startDaemon(fx.dir()));
    await escapeeGone('31303');
    await eventually(async () => (pidsWithEnv('RAE_SCHED_RUN_ID', queued).length === 0 ? true : undefined), 'the run to be killed', 15_000);
    expect(await second.stop()).toBe(0);
  });

  it('leaves no cgroup behind', () => {
    expect(staleOwnerGroups()).toEqual([]);
  });
});
