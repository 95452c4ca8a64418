/**
 * The pooled cgroups of runs without limits (docs/jobs.md "Containment", issue 7 W2), through the
 * real pool and run host: a run is in its group from its first instruction (born in it on v1 —
 * no wrapper — or joined by the wrapper on v2), an escaped `env -i setsid` descendant is killed at
 * the run's end, the emptied group is reused (the owner's groups do not grow run after run), a run
 * with a limit still gets fresh groups in every hierarchy, and a clean close leaves nothing behind.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ExecutorPool } from '../../src/actors/executor';
import { containment } from '../../src/workers/run/cgroup-detect';
import { RunCgroup } from '../../src/workers/run/cgroup';
import { spawn } from 'node:child_process';
import { isRunning, printedPids, request } from './helpers';

jest.setTimeout(60_000);

const BACKEND = containment().backend;
const tracking = BACKEND?.hierarchies.find((h) => h.controllers.includes('freezer')) ?? BACKEND?.hierarchies[0];
const ownerDir = (h = tracking!) => path.join(h.base, BACKEND!.ownerName);
const groupsIn = (dir: string): string[] => {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
};
/** The line of `/proc/<pid>/cgroup` for the tracking hierarchy, as the process printed it itself. */
const lineFor = (text: string) => text.split('\n').find((l) => l.split(':')[1]!.split(',').some((c) => tracking!.controllers.includes(c)))!;

let pool: ExecutorPool;
beforeAll(() => {
  if (!BACKEND) process.stderr.write(`[cgroup-pool] SKIPPED: ${containment().summary}\n`);
  pool = new ExecutorPool({ maxConcurrent: 4 });
});
afterAll(() => pool.close({ graceMs: 0 }));

const run = (over: Parameters<typeof request>[0]) => pool.start(request(over)).result;

(BACKEND ? describe : describe.skip)('pooled groups of runs without limits', () => {
  it('the program runs in the run\'s own group from its start: its first read of /proc/self/cgroup names it', async () => {
    const req = request({ command: { argv: ['/bin/cat', '/proc/self/cgroup'] } });
    const r = await pool.start(req).result;
    expect(r.status).toBe('succeeded');
    const line = lineFor(r.output);
    expect(line).toContain(`/${BACKEND!.ownerName}/${req.runId}-`);
  });

  (BACKEND?.version === 1 ? it : it.skip)('v1: a child forked while the spawning thread is inside is born in the group; the thread is back out', async () => {
    const g = RunCgroup.pooled('run_born', BACKEND)!;
    expect(g.enterForSpawn()).toBe(true);
    const child = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
    g.leaveAfterSpawn();
    try {
      expect(lineFor(readFileSync(`/proc/${child.pid}/cgroup`, 'utf8'))).toContain('/run_born-');
      expect(lineFor(readFileSync('/proc/thread-self/cgroup', 'utf8'))).not.toContain(BACKEND!.ownerName);
      expect(g.members()).toEqual([child.pid]); // never this process, which was listed for an instant
    } finally {
      await g.remove(); // kills the sleep, and pools the group
    }
    expect(child.signalCode ?? (await new Promise((r) => child.once('exit', (_c, sig) => r(sig))))).toBe('SIGKILL');
    // The group went back to the pool with its tasks file still open: taken again under a new
    // run's name, a child forked inside it is born in it too.
    const again = RunCgroup.pooled('run_again', BACKEND)!;
    expect(again.dirs[0]).not.toBe(g.dirs[0]);
    expect(again.enterForSpawn()).toBe(true);
    const second = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
    again.leaveAfterSpawn();
    try {
      expect(lineFor(readFileSync(`/proc/${second.pid}/cgroup`, 'utf8'))).toContain('/run_again-');
      expect(lineFor(readFileSync('/proc/thread-self/cgroup', 'utf8'))).not.toContain(BACKEND!.ownerName);
    } finally {
      await again.remove();
    }
  });

  it('kills an escaped env -i setsid descendant at the run\'s end', async () => {
    const r = await run({ command: 'env -i setsid sleep 31320 & echo $!' });
    expect(r.status).toBe('succeeded');
    const [escapee] = printedPids(r.output);
    for (let i = 0; i < 100 && isRunning(escapee!); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(isRunning(escapee!)).toBe(false);
  });

  it('reuses emptied groups: 20 runs one after another leave at most one group in the pool', async () => {
    await run({ command: { argv: ['/bin/true'] } });
    const before = groupsIn(ownerDir()).length;
    for (let i = 0; i < 20; i++) expect((await run({ command: { argv: ['/bin/true'] } })).status).toBe('succeeded');
    const after = groupsIn(ownerDir());
    expect(after.length).toBeLessThanOrEqual(Math.max(before, 1));
    expect(after.every((n) => n.startsWith('pool-'))).toBe(true);
    // A run without limits is not measured: its pooled group's counters are not its own alone.
    expect((await run({ command: { argv: ['/bin/true'] } })).peakMemoryBytes).toBeNull();
  });

  it('a run with a limit gets a fresh group in every hierarchy, joined before exec, removed after', async () => {
    const req = request({ command: { argv: ['/bin/cat', '/proc/self/cgroup'] }, limits: { maxMemoryBytes: 512 * 1024 * 1024 } });
    const r = await pool.start(req).result;
    expect(r.status).toBe('succeeded');
    for (const h of BACKEND!.hierarchies) {
      const line = r.output.split('\n').find((l) => (l.split(':')[1] ?? '').split(',').some((c) => h.controllers.includes(c)) || (BACKEND!.version === 2 && l.startsWith('0::')));
      expect(line).toContain(`/${req.runId}-`);
      expect(groupsIn(ownerDir(h)).some((n) => n.startsWith(`${req.runId}-`))).toBe(false);
    }
    expect(r.peakMemoryBytes).toBeGreaterThan(0);
  });

  it('this process never ends up inside a run\'s group', () => {
    // The run host's thread enters a group only for the instant of a fork; the scheduler never does.
    expect(lineFor(readFileSync('/proc/self/cgroup', 'utf8'))).not.toContain(BACKEND!.ownerName);
  });

  it('a clean close removes the pooled groups and the owner group', async () => {
    const own = new ExecutorPool({ maxConcurrent: 2 });
    await Promise.all([0, 1].map(() => own.start(request({ command: 'sleep 0.2' })).result));
    expect(groupsIn(ownerDir()).length).toBeGreaterThan(0);
    await own.close({ graceMs: 0 });
    await pool.close({ graceMs: 0 });
    for (const h of BACKEND!.hierarchies) expect(existsSync(ownerDir(h))).toBe(false);
    pool = new ExecutorPool({ maxConcurrent: 4 }); // for afterAll
  });
});
