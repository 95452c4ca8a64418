/**
 * The cgroup v2 mechanics of a run's group on a real cgroup2 mount: joining through the wrapper
 * before exec (argv untouched), membership of an env-less `setsid` escapee, `cgroup.kill`, CPU
 * counted by the group, removal, and the start-up clean-up of a dead owner's groups. This machine
 * binds the memory/cpu/pids controllers to cgroup v1, so its cgroup2 tree has no controllers: the
 * limits are exercised by the v1 backend (test/faults/cgroup.int.test.ts), the rest here.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { RunCgroup, removeStaleGroups } from '../../src/workers/run/cgroup';
import type { CgroupBackend } from '../../src/workers/run/cgroup-detect';

jest.setTimeout(60_000);

/** The cgroup2 mount, when there is one we may write. */
function v2Mount(): string | null {
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => / - cgroup2 /.test(l));
  if (!line) return null;
  const point = line.split(' ')[4]!;
  try {
    const probe = join(point, `rae-sched-probe-${process.pid}`);
    mkdirSync(probe);
    rmdirSync(probe);
    return point;
  } catch {
    return null;
  }
}

const MOUNT = v2Mount();
const base = MOUNT === null ? '' : join(MOUNT, `rae-sched-test-${process.pid}`);
const backend = (owner: string): CgroupBackend => ({ version: 2, hierarchies: [{ controllers: [], base }], ownerName: owner });
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const made: RunCgroup[] = [];
const group = (runId: string, owner: string): RunCgroup => {
  const g = RunCgroup.create(runId, {}, backend(owner));
  if (g === null) throw new Error(`cannot make a v2 group under ${base}`);
  made.push(g);
  return g;
};

beforeAll(() => {
  if (MOUNT === null) process.stderr.write('[cgroup-v2] SKIPPED: no writable cgroup2 mount here\n');
});
afterAll(async () => {
  // Whatever a failed test left: its processes killed, its groups removed.
  for (const g of made) await g.remove();
  for (const owner of ['owner-test', 'owner-999999999-1']) if (existsSync(join(base, owner))) rmdirSync(join(base, owner));
  if (MOUNT !== null && existsSync(base)) rmdirSync(base);
});

(MOUNT === null ? describe.skip : describe)('cgroup v2 group of a run', () => {
  it('holds the whole tree (an env -i setsid escapee too), and cgroup.kill ends it', async () => {
    const g = group('run_v2', 'owner-test');
    // argv reaches the program untouched: a `$(...)` or `;` in an argument is data, never shell.
    const w = g.wrap('/bin/sh', ['-c', 'echo "$1"; env -i setsid sleep 31310 & sleep 300', 'x', '$(echo no); ;']);
    const child = spawn(w.file, w.args, { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    for (let i = 0; i < 200 && g.members().length < 2; i++) await wait(25);
    expect(g.members()).toContain(child.pid);
    expect(g.members().length).toBeGreaterThanOrEqual(2); // the escapee is in the group
    expect(out).toBe('$(echo no); ;\n');
    expect(g.usage().cpuNs).toBeGreaterThan(0);
    await g.kill();
    expect(g.members()).toEqual([]);
    await g.remove();
    expect(existsSync(g.dirs[0]!)).toBe(false);
  });

  it('at start, removes the groups of a dead owner and kills what runs in them, sparing a live one', async () => {
    const dead = group('run_dead', 'owner-999999999-1');
    const mine = group('run_live', 'owner-test');
    const w = dead.wrap('/bin/sh', ['-c', 'env -i setsid sleep 31311 & sleep 300']);
    const child = spawn(w.file, w.args, { detached: true, stdio: 'ignore' });
    for (let i = 0; i < 200 && dead.members().length < 2; i++) await wait(25);
    expect(dead.members().length).toBeGreaterThanOrEqual(2);
    expect(await removeStaleGroups(backend('owner-test'))).toBe(1);
    expect(existsSync(dead.dirs[0]!)).toBe(false);
    expect(existsSync(join(base, 'owner-999999999-1'))).toBe(false);
    expect(existsSync(mine.dirs[0]!)).toBe(true); // our own (alive) owner's group is spared
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
    expect(child.signalCode).toBe('SIGKILL');
    await mine.remove();
    expect(existsSync(mine.dirs[0]!)).toBe(false);
  });
});
