/**
 * A run's own cgroup (docs/jobs.md "Containment"): every process the run starts — also one that
 * leaves its process group with `setsid` and clears its environment — stays in it, because only
 * the kernel moves processes between groups. So the group gives the run's whole tree: the kernel
 * enforces `--max-memory` (memory.max / memory.limit_in_bytes: the OOM killer inside the group)
 * and `--max-cpu` (cpu.max / cpu.cfs_quota_us: throttling), counts its peak memory and CPU, and
 * kills it whole (cgroup.kill; on v1 freeze, SIGKILL every member, thaw).
 *
 * The child joins before it runs the user's program: it is spawned through a two-line `/bin/sh`
 * that writes its own pid into the group and then `exec`s the user's argv, which is passed as
 * arguments — never interpreted by that shell.
 */
import fs from 'node:fs';
import path from 'node:path';
import { containment, enableControllers, type CgroupBackend, type Hierarchy } from './cgroup-detect';
import { ownerAlive } from './job-env';

/** The joining wrapper: `sh -c JOIN rae-sched-join N DIR1..DIRN FILE ARGS...`. */
const JOIN = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1/cgroup.procs" || exit 125; shift; n=$((n-1)); done; exec "$@"';

/** What the kernel counted for a run's group. */
export interface GroupUsage {
  /** Highest memory charged to the group (bytes; includes page cache). */
  peakMemoryBytes: number | null;
  /** CPU time of every process that was in the group, nanoseconds. */
  cpuNs: number | null;
  /** Processes the kernel's OOM killer ended inside the group. */
  oomKills: number;
}

const readInt = (file: string): number | null => {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
};
const statField = (file: string, key: string): number | null => {
  try {
    const m = new RegExp(`(?:^|\\n)${key} (\\d+)`).exec(fs.readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
};
const tryWrite = (file: string, value: string): boolean => {
  try {
    fs.writeFileSync(file, value);
    return true;
  } catch {
    return false;
  }
};
const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let seq = 0;
/** A run's group is named `<run id>-<pid>-<seq>` (a run id never holds a `-`). */
const groupPrefix = (runId: string) => `${runId.replace(/[^A-Za-z0-9_.]/g, '_')}-`;

/** One run's group across the backend's hierarchies. */
export class RunCgroup {
  readonly #b: CgroupBackend;
  /** The group's directory in each hierarchy, in the backend's order. */
  readonly dirs: string[];
  #removed = false;

  private constructor(b: CgroupBackend, dirs: string[]) {
    this.#b = b;
    this.dirs = dirs;
  }

  /**
   * Makes the group of run `runId` with its limits, or returns null (no cgroup backend, or making it
   * failed: the run then falls back to the /proc marker scan, never fails for it).
   */
  static create(runId: string, limits: { maxMemoryBytes?: number; maxCpuPercent?: number }, backend = containment().backend): RunCgroup | null {
    if (!backend) return null;
    const name = `${groupPrefix(runId)}${process.pid}-${++seq}`;
    const dirs: string[] = [];
    try {
      for (const h of backend.hierarchies) {
        const owner = path.join(h.base, backend.ownerName);
        // Made again after a clean stop removed it (one process may run several schedulers in turn).
        if (!fs.existsSync(owner)) {
          fs.mkdirSync(owner, { recursive: true });
          if (backend.version === 2) enableControllers(owner, h.controllers);
        }
        const dir = path.join(owner, name);
        fs.mkdirSync(dir);
        dirs.push(dir);
      }
    } catch {
      for (const d of dirs) tryRmdir(d);
      return null;
    }
    const group = new RunCgroup(backend, dirs);
    group.#limit(limits);
    return group;
  }

  #dir(controller: string): string | null {
    const i = this.#b.hierarchies.findIndex((h: Hierarchy) => h.controllers.includes(controller));
    return i < 0 ? null : this.dirs[i]!;
  }

  #limit({ maxMemoryBytes, maxCpuPercent }: { maxMemoryBytes?: number; maxCpuPercent?: number }): void {
    const mem = this.#dir('memory');
    const cpu = this.#dir('cpu');
    if (this.#b.version === 2) {
      if (mem && maxMemoryBytes !== undefined) {
        tryWrite(path.join(mem, 'memory.max'), String(maxMemoryBytes));
        tryWrite(path.join(mem, 'memory.swap.max'), '0'); // the limit is on memory, not memory + swap
      }
      if (cpu && maxCpuPercent !== undefined) tryWrite(path.join(cpu, 'cpu.max'), `${Math.max(1000, Math.round(maxCpuPercent * 1000))} 100000`);
      return;
    }
    if (mem && maxMemoryBytes !== undefined) {
      tryWrite(path.join(mem, 'memory.limit_in_bytes'), String(maxMemoryBytes));
      tryWrite(path.join(mem, 'memory.memsw.limit_in_bytes'), String(maxMemoryBytes)); // where swap accounting is on
    }
    if (cpu && maxCpuPercent !== undefined) {
      tryWrite(path.join(cpu, 'cpu.cfs_period_us'), '100000');
      tryWrite(path.join(cpu, 'cpu.cfs_quota_us'), String(Math.max(1000, Math.round(maxCpuPercent * 1000))));
    }
  }

  /** `file args` wrapped so that the process joins this group before it `exec`s them. */
  wrap(file: string, args: string[]): { file: string; args: string[] } {
    return { file: '/bin/sh', args: ['-c', JOIN, 'rae-sched-join', String(this.dirs.length), ...this.dirs, file, ...args] };
  }

  /** Live pids in the group (the freezer's, or the first hierarchy's, list). */
  members(): number[] {
    const dir = this.#dir('freezer') ?? this.dirs[0]!;
    try {
      return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** Whether any process is left in the group. */
  alive(): boolean {
    return this.members().length > 0;
  }

  /** Sends `signal` to every member. */
  signal(signal: NodeJS.Signals): void {
    for (const pid of this.members()) {
      try {
        process.kill(pid, signal);
      } catch {
        // gone
      }
    }
  }

  /** What the kernel counted so far. */
  usage(): GroupUsage {
    const mem = this.#dir('memory');
    if (this.#b.version === 2) {
      return {
        peakMemoryBytes: mem ? readInt(path.join(mem, 'memory.peak')) ?? readInt(path.join(mem, 'memory.current')) : null,
        // cpu.stat's usage_usec is core (there even without the cpu controller).
        cpuNs: (statField(path.join(this.dirs[0]!, 'cpu.stat'), 'usage_usec') ?? NaN) * 1000 || null,
        oomKills: mem ? statField(path.join(mem, 'memory.events'), 'oom_kill') ?? 0 : 0,
      };
    }
    const cpu = this.#dir('cpuacct');
    return {
      peakMemoryBytes: mem ? readInt(path.join(mem, 'memory.max_usage_in_bytes')) : null,
      cpuNs: cpu !== null ? readInt(path.join(cpu, 'cpuacct.usage')) : null,
      oomKills: mem ? statField(path.join(mem, 'memory.oom_control'), 'oom_kill') ?? 0 : 0,
    };
  }

  /** Kills every process of the group and waits (bounded) until it is empty. */
  async kill(): Promise<void> {
    await killGroup(this.#b.version, this.dirs, this.#dir('freezer'));
  }

  /** Removes the group (after {@link kill}, or once it is empty). Idempotent. */
  async remove(): Promise<void> {
    if (this.#removed) return;
    this.#removed = true;
    if (this.alive()) await this.kill();
    for (const d of this.dirs) await rmdirSoon(d);
  }
}

function tryRmdir(dir: string): boolean {
  try {
    fs.rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** rmdir, retried a moment while the last members finish exiting (EBUSY). */
async function rmdirSoon(dir: string): Promise<void> {
  for (let i = 0; i < 40 && !tryRmdir(dir); i++) await wait(25);
}

const procsOf = (dir: string): number[] => {
  try {
    return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

/**
 * Kills a group. v2: `cgroup.kill` (the kernel kills every member, forks included). v1: freeze it
 * so nothing forks while we signal, SIGKILL every member, thaw so the kills are delivered.
 */
async function killGroup(version: 1 | 2, dirs: string[], freezer: string | null): Promise<void> {
  const list = freezer ?? dirs[0]!;
  const killAll = () => {
    for (const pid of procsOf(list)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  };
  for (let round = 0; round < 100 && procsOf(list).length > 0; round++) {
    if (version === 2 && tryWrite(path.join(dirs[0]!, 'cgroup.kill'), '1')) {
      await wait(10);
      continue;
    }
    const frozen = freezer !== null && tryWrite(path.join(freezer, 'freezer.state'), 'FROZEN');
    if (frozen) {
      for (let i = 0; i < 20 && fs.readFileSync(path.join(freezer, 'freezer.state'), 'utf8').trim() !== 'FROZEN'; i++) await wait(5);
    }
    killAll();
    if (frozen) tryWrite(path.join(freezer!, 'freezer.state'), 'THAWED');
    await wait(10);
  }
}

/**
 * At start: removes the groups of schedulers that are gone (a `kill -9` leaves them), killing what
 * still runs in them. Groups of a live owner (a foreground `rae-sched run`, another daemon) are
 * spared. Returns how many runs' groups were removed. Never throws.
 */
export async function removeStaleGroups(backend = containment().backend): Promise<number> {
  if (!backend) return 0;
  let removed = 0;
  const owners = new Set<string>();
  for (const h of backend.hierarchies) {
    try {
      for (const name of fs.readdirSync(h.base)) if (name.startsWith('owner-') && name !== backend.ownerName) owners.add(name);
    } catch {
      // no parent yet
    }
  }
  for (const owner of owners) {
    // `owner-PID-START` names the scheduler process by pid and kernel start time.
    if (ownerAlive(owner.slice('owner-'.length).replace('-', ':'))) continue;
    const runs = new Set<string>();
    for (const h of backend.hierarchies) {
      try {
        for (const e of fs.readdirSync(path.join(h.base, owner), { withFileTypes: true })) if (e.isDirectory()) runs.add(e.name);
      } catch {
        // gone
      }
    }
    removed += await killAndRemove(backend, owner, runs);
    for (const h of backend.hierarchies) tryRmdir(path.join(h.base, owner));
  }
  return removed;
}

/**
 * Kills and removes this scheduler's groups of `runIds` — runs whose executor thread died under
 * them (their ProcessRun will never clean up). Never throws.
 */
export async function killRunGroups(runIds: Iterable<string>, backend = containment().backend): Promise<number> {
  if (!backend) return 0;
  const prefixes = [...runIds].map(groupPrefix);
  if (prefixes.length === 0) return 0;
  const names = new Set<string>();
  for (const h of backend.hierarchies) {
    try {
      for (const n of fs.readdirSync(path.join(h.base, backend.ownerName))) if (prefixes.some((p) => n.startsWith(p))) names.add(n);
    } catch {
      // none
    }
  }
  return killAndRemove(backend, backend.ownerName, names);
}

/** Kills what runs in the groups `names` of `owner`, then removes them. */
async function killAndRemove(backend: CgroupBackend, owner: string, names: Set<string>): Promise<number> {
  const freezerAt = backend.hierarchies.findIndex((h) => h.controllers.includes('freezer'));
  for (const name of names) {
    const dirs = backend.hierarchies.map((h) => path.join(h.base, owner, name));
    await killGroup(backend.version, dirs.filter((d) => fs.existsSync(d)), freezerAt < 0 ? null : dirs[freezerAt]!);
    for (const d of dirs) await rmdirSoon(d);
  }
  return names.size;
}

/** At a clean stop: removes this scheduler's own (empty) owner groups and the parent if it is empty. */
export function removeOwnGroups(backend = containment().backend): void {
  if (!backend) return;
  for (const h of backend.hierarchies) {
    tryRmdir(path.join(h.base, backend.ownerName));
    // A v2 parent carries its delegated controllers: kept (like a systemd slice).
    if (backend.version === 1) tryRmdir(h.base);
  }
}
