/**
 * Which containment is in force for a run's process tree (docs/jobs.md "Containment"), decided once
 * per thread from /proc/self/mountinfo and /proc/self/cgroup:
 *
 * - **cgroup v2**: a unified hierarchy where the memory, cpu and pids controllers reach the groups
 *   we create — our own group is the root (a container with its cgroup namespace), or a delegated
 *   group that holds only this process (it then moves itself into a `rae-sched.daemon` leaf, as a
 *   systemd service with `Delegate=yes` must). Runs get `memory.max`, `cpu.max`, `cgroup.kill`.
 * - **cgroup v1**: the memory, cpu and cpuacct hierarchies (and pids, freezer where mounted) are
 *   writable; per-run groups go under our own group in each, in a `rae-sched` parent.
 * - **the /proc marker scan**: neither (not root, read-only cgroupfs, controllers not delegated):
 *   src/workers/run/descendants.ts. `RAE_SCHED_CONTAINMENT=proc` forces it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { schedulerOwnerToken } from './job-env';

/** One cgroup hierarchy the runs' groups are made in. */
export interface Hierarchy {
  /** Controllers of this hierarchy we use (v1: e.g. ['cpu', 'cpuacct'] when co-mounted). */
  controllers: string[];
  /** The `rae-sched` parent: owners' groups go under it. */
  base: string;
}

/** A usable cgroup backend. */
export interface CgroupBackend {
  version: 1 | 2;
  hierarchies: Hierarchy[];
  /** This process's own group under every base (`<base>/owner-PID-START`). */
  ownerName: string;
}

/** What {@link containment} found. */
export interface Containment {
  kind: 'cgroup2' | 'cgroup1' | 'proc';
  /** e.g. "cgroup v1 (memory,cpu,cpuacct,pids,freezer)" or "/proc marker scan (why)". */
  summary: string;
  backend: CgroupBackend | null;
}

interface Mount {
  point: string;
  root: string;
  fstype: string;
  options: string[];
}

const V1_WANTED = ['memory', 'cpu', 'cpuacct', 'pids', 'freezer'] as const;
const V1_REQUIRED = ['memory', 'cpu', 'cpuacct'];
const V2_REQUIRED = ['memory', 'cpu', 'pids'];
/** The leaf a v2 daemon moves itself into so its own group may hand controllers down. */
export const V2_DAEMON_LEAF = 'rae-sched.daemon';
export const PARENT_NAME = 'rae-sched';

function mounts(): Mount[] {
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const f = left.split(' ');
    const r = right.split(' ');
    if (r[0] === 'cgroup' || r[0] === 'cgroup2') {
      out.push({ point: unescape(f[4] ?? ''), root: unescape(f[3] ?? '/'), fstype: r[0], options: (r[2] ?? '').split(',') });
    }
  }
  return out;
}

/** mountinfo escapes spaces and the like as \ooo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** `/proc/self/cgroup`: hierarchy controllers ('' for v2) → our path in it. */
function ownGroups(): Map<string, string> {
  const out = new Map<string, string>();
  try {
    for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
      const m = /^\d+:([^:]*):(.*)$/.exec(line);
      if (m) for (const c of m[1]!.split(',')) out.set(c, m[2]!);
    }
  } catch {
    // No /proc: no cgroups either.
  }
  return out;
}

/** The directory of our group `own` in hierarchy `m` (the mount may show a sub-tree only). */
function dirIn(m: Mount, own: string): string | null {
  const root = m.root === '/' ? '' : m.root;
  if (root !== '' && own !== root && !own.startsWith(`${root}/`)) return null;
  return path.join(m.point, own.slice(root.length));
}

const errCode = (err: unknown) => (err as NodeJS.ErrnoException).code ?? String(err);
const read = (file: string): string => fs.readFileSync(file, 'utf8').trim();

/** Makes `dir` (and parents); `probe` only checks that it could (doctor is read-only). */
function ensureDir(dir: string, probe: boolean): void {
  if (!probe) {
    fs.mkdirSync(dir, { recursive: true });
    return;
  }
  let d = dir;
  while (!fs.existsSync(d)) d = path.dirname(d);
  fs.accessSync(d, fs.constants.W_OK);
}

function detectV1(all: Mount[], own: Map<string, string>, ownerName: string, probe: boolean): CgroupBackend | string {
  const hierarchies: Hierarchy[] = [];
  for (const c of V1_WANTED) {
    const m = all.find((x) => x.fstype === 'cgroup' && x.options.includes(c));
    if (!m) {
      if (V1_REQUIRED.includes(c)) return `no cgroup v1 ${c} hierarchy mounted`;
      continue;
    }
    const known = hierarchies.find((h) => h.base.startsWith(`${m.point}/`));
    if (known) {
      known.controllers.push(c);
      continue;
    }
    const mine = dirIn(m, own.get(c) ?? '/');
    if (mine === null) return `our ${c} group is outside the mounted ${m.point}`;
    hierarchies.push({ controllers: [c], base: path.join(mine, PARENT_NAME) });
  }
  for (const h of hierarchies) {
    try {
      ensureDir(path.join(h.base, ownerName), probe);
    } catch (err) {
      return `cannot create cgroups in ${h.base} (${errCode(err)})`;
    }
  }
  return { version: 1, hierarchies, ownerName };
}

/** Hands `controllers` down to the children of `dir` (v2 `cgroup.subtree_control`). */
export function enableControllers(dir: string, controllers: string[]): void {
  const have = read(path.join(dir, 'cgroup.subtree_control')).split(' ');
  const add = controllers.filter((c) => !have.includes(c));
  if (add.length > 0) fs.writeFileSync(path.join(dir, 'cgroup.subtree_control'), add.map((c) => `+${c}`).join(' '));
}

function detectV2(all: Mount[], own: Map<string, string>, ownerName: string, probe: boolean): CgroupBackend | string {
  const m = all.find((x) => x.fstype === 'cgroup2');
  if (!m) return 'no cgroup2 mount';
  let mine = dirIn(m, own.get('') ?? '/');
  if (mine === null) return `our group is outside the mounted ${m.point}`;
  if (path.basename(mine) === V2_DAEMON_LEAF) mine = path.dirname(mine);
  let available: string[];
  try {
    available = read(path.join(mine, 'cgroup.controllers')).split(' ');
  } catch (err) {
    return `cannot read ${mine}/cgroup.controllers (${errCode(err)})`;
  }
  const missing = V2_REQUIRED.filter((c) => !available.includes(c));
  if (missing.length > 0) return `cgroup v2 at ${mine} lacks the ${missing.join(',')} controller(s) (bound to cgroup v1 or not delegated)`;
  const base = path.join(mine, PARENT_NAME);
  if (probe) {
    try {
      ensureDir(base, true);
    } catch (err) {
      return `cannot create cgroups in ${mine} (${errCode(err)})`;
    }
    return { version: 2, hierarchies: [{ controllers: V2_REQUIRED, base }], ownerName };
  }
  try {
    const isRoot = !fs.existsSync(path.join(mine, 'cgroup.type'));
    const procs = read(path.join(mine, 'cgroup.procs')).split('\n').filter(Boolean);
    if (!isRoot && procs.length > 0) {
      // No internal processes: our own group may hand controllers down only once it holds none.
      if (procs.some((p) => Number(p) !== process.pid)) return `${mine} holds other processes than the scheduler; give it a delegated group of its own`;
      fs.mkdirSync(path.join(mine, V2_DAEMON_LEAF), { recursive: true });
      fs.writeFileSync(path.join(mine, V2_DAEMON_LEAF, 'cgroup.procs'), String(process.pid));
    }
    enableControllers(mine, V2_REQUIRED);
    fs.mkdirSync(path.join(base, ownerName), { recursive: true });
    enableControllers(base, V2_REQUIRED);
    enableControllers(path.join(base, ownerName), V2_REQUIRED);
  } catch (err) {
    return `cannot delegate ${V2_REQUIRED.join(',')} below ${mine} (${errCode(err)})`;
  }
  return { version: 2, hierarchies: [{ controllers: V2_REQUIRED, base }], ownerName };
}

/** Detects the containment without caching. `probe`: change nothing (doctor). */
export function detectContainment(probe = false): Containment {
  const forced = process.env.RAE_SCHED_CONTAINMENT;
  if (forced === 'proc') return procScan('RAE_SCHED_CONTAINMENT=proc');
  if (process.platform !== 'linux') return procScan(`${process.platform} has no cgroups`);
  const all = mounts();
  const own = ownGroups();
  const ownerName = `owner-${schedulerOwnerToken().replace(':', '-')}`;
  const v2 = detectV2(all, own, ownerName, probe);
  if (typeof v2 !== 'string') return { kind: 'cgroup2', summary: 'cgroup v2 (memory,cpu,pids)', backend: v2 };
  const v1 = detectV1(all, own, ownerName, probe);
  if (typeof v1 !== 'string') {
    const names = v1.hierarchies.flatMap((h) => h.controllers).join(',');
    return { kind: 'cgroup1', summary: `cgroup v1 (${names})`, backend: v1 };
  }
  return procScan(`${v2}; ${v1}`);
}

function procScan(reason: string): Containment {
  return { kind: 'proc', summary: `/proc marker scan (${reason})`, backend: null };
}

let cached: Containment | null = null;
/**
 * Takes the containment another process detected (the scheduler, for its run host process:
 * detecting again there would see the scheduler's own group and could decide differently).
 */
export function adoptContainment(c: Containment): void {
  cached = c;
}
/** The containment of this thread's runs, detected on first use. */
export function containment(): Containment {
  cached ??= detectContainment();
  return cached;
}
