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
/** A control file's text, or null when it cannot be read (its group was removed meanwhile). */
const tryRead = (file: string): string | null => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};
const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let seq = 0;
/** A run's group is named `<run id>-<pid>-<seq>` (a run id never holds a `-`). */
const groupPrefix = (runId: string) => `${runId.replace(/[^A-Za-z0-9_.]/g, '_')}-`;

/** Most empty pooled groups kept for reuse per process; more are removed. */
const POOL_MAX = 64;
/** An empty pooled group, and its `tasks` file kept open (v1: the spawner enters it per run). */
interface FreeGroup {
  dir: string;
  tasksFd: number | null;
}
/** Empty groups of runs without limits, kept for the next such run (docs/jobs.md "Containment"). */
const freeGroups: FreeGroup[] = [];
let poolSeq = 0;

const closeFd = (fd: number | null): void => {
  if (fd === null) return;
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
};
const openForWrite = (file: string): number | null => {
  try {
    return fs.openSync(file, 'w');
  } catch {
    return null;
  }
};
/**
 * Moves the calling thread into the group whose `tasks` file is open as `fd`: `0` names the writer
 * itself (no lookup by id), and the file stays open from run to run — an open + close of a cgroup
 * file cost more than the move itself (host run path: 0.49 → 0.18 ms a run for the two moves).
 * Falls back to writing our thread id to `file`.
 */
function enterByFd(fd: number | null, file: string): boolean {
  if (fd !== null) {
    try {
      fs.writeSync(fd, '0');
      return true;
    } catch {
      // an older kernel refusing 0: by id
    }
  }
  return tryWrite(file, threadId());
}
/** The `tasks` files of the spawner's own groups (one per hierarchy), kept open. */
const homeTasks = new Map<string, number | null>();

/**
 * The hierarchy a run without limits is tracked in: the freezer where there is one (a kill that
 * nothing can fork past), else pids, else the first. v2 has one hierarchy anyway.
 */
function trackingHierarchy(b: CgroupBackend): Hierarchy {
  return b.hierarchies.find((h) => h.controllers.includes('freezer'))
    ?? b.hierarchies.find((h) => h.controllers.includes('pids'))
    ?? b.hierarchies[0]!;
}

/** Makes the owner group of `h` if a clean stop removed it (one process may run several schedulers in turn). */
function ensureOwner(b: CgroupBackend, h: Hierarchy): string {
  const owner = path.join(h.base, b.ownerName);
  if (!fs.existsSync(owner)) {
    fs.mkdirSync(owner, { recursive: true });
    if (b.version === 2) enableControllers(owner, h.controllers);
  }
  return owner;
}

/** One run's group across the backend's hierarchies. */
export class RunCgroup {
  readonly #b: CgroupBackend;
  /** The hierarchies the group is in (all of the backend's, or the tracking one alone). */
  readonly #hier: Hierarchy[];
  /** The group's directory in each of its hierarchies, in the same order. */
  readonly dirs: string[];
  /** A pooled group of a run without limits: emptied, it goes back to the pool instead of rmdir. */
  readonly #pooled: boolean;
  /** The spawner's thread could not leave the group after a spawn: never reused. */
  #tainted = false;
  #removed = false;
  /** A pooled group's `tasks` file, open while the group lives (v1 born-in-group spawns). */
  #tasksFd: number | null;

  private constructor(b: CgroupBackend, hier: Hierarchy[], dirs: string[], pooled = false, tasksFd: number | null = null) {
    this.#b = b;
    this.#hier = hier;
    this.dirs = dirs;
    this.#pooled = pooled;
    this.#tasksFd = tasksFd;
  }

  /**
   * The group of a run: a fresh group in every hierarchy with the limits when the run has a memory
   * or CPU limit ({@link RunCgroup.create}); otherwise a pooled group in the tracking hierarchy
   * alone ({@link RunCgroup.pooled}). Null where no group can be made (the /proc marker scan then).
   */
  static forRun(runId: string, limits: { maxMemoryBytes?: number; maxCpuPercent?: number }, backend = containment().backend): RunCgroup | null {
    if (limits.maxMemoryBytes !== undefined || limits.maxCpuPercent !== undefined) return RunCgroup.create(runId, limits, backend);
    return RunCgroup.pooled(runId, backend);
  }

  /**
   * A group for a run without limits, in the tracking hierarchy only (membership and the kill are
   * all such a run needs), reused: an emptied group is renamed back into the pool, so a run pays a
   * rename instead of mkdir + rmdir in every hierarchy, and joins one group instead of one per
   * hierarchy. It is renamed after the run while the run holds it, so killing a run's groups by run
   * id (a dead executor) finds it. Null as {@link RunCgroup.create}.
   */
  static pooled(runId: string, backend = containment().backend): RunCgroup | null {
    if (!backend) return null;
    const h = trackingHierarchy(backend);
    const dir = path.join(h.base, backend.ownerName, `${groupPrefix(runId)}${process.pid}-${++seq}`);
    let tasksFd: number | null = null;
    try {
      const free = freeGroups.pop();
      if (free !== undefined && tryRename(free.dir, dir)) tasksFd = free.tasksFd;
      else {
        closeFd(free?.tasksFd ?? null);
        ensureOwner(backend, h);
        fs.mkdirSync(dir);
      }
    } catch {
      return null;
    }
    return new RunCgroup(backend, [h], [dir], true, tasksFd);
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
        const dir = path.join(ensureOwner(backend, h), name);
        fs.mkdirSync(dir);
        dirs.push(dir);
      }
    } catch {
      for (const d of dirs) tryRmdir(d);
      return null;
    }
    const group = new RunCgroup(backend, backend.hierarchies, dirs);
    group.#limit(limits);
    return group;
  }

  #dir(controller: string): string | null {
    const i = this.#hier.findIndex((h: Hierarchy) => h.controllers.includes(controller));
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

  /**
   * cgroup v1, a pooled group (one hierarchy, no accounting): moves the calling THREAD into the
   * group, so that a process it forks now is born inside it — no window in which the child or
   * anything it starts is outside, and no wrapper to exec. {@link RunCgroup.leaveAfterSpawn} must
   * follow the spawn at once (same synchronous turn). False where this does not apply (v2, whose
   * memory controller moves whole processes only; groups with limits, whose memory accounting
   * must never charge the spawner): then spawn through {@link RunCgroup.wrap}.
   */
  enterForSpawn(): boolean {
    if (this.#b.version !== 1 || !this.#pooled) return false;
    const file = path.join(this.dirs[0]!, 'tasks');
    this.#tasksFd ??= openForWrite(file);
    return enterByFd(this.#tasksFd, file);
  }

  /** Moves the calling thread back to where it was before {@link RunCgroup.enterForSpawn}. */
  leaveAfterSpawn(): void {
    // The thread's own group in this hierarchy: the parent of the `rae-sched` base (cgroup-detect.ts).
    const file = path.join(path.dirname(this.#hier[0]!.base), 'tasks');
    if (!homeTasks.has(file)) homeTasks.set(file, openForWrite(file));
    if (enterByFd(homeTasks.get(file)!, file)) return;
    // Never leave the spawner inside a run's group: this group is not reused, and members() never lists us.
    this.#tainted = true;
    process.emitWarning(`rae-sched: could not move the run host's thread out of ${this.dirs[0]}`);
  }

  /** `file args` wrapped so that the process joins this group before it `exec`s them. */
  wrap(file: string, args: string[]): { file: string; args: string[] } {
    return { file: '/bin/sh', args: ['-c', JOIN, 'rae-sched-join', String(this.dirs.length), ...this.dirs, file, ...args] };
  }

  /** Live pids in the group (the freezer's, or the first hierarchy's, list); never this process. */
  members(): number[] {
    return procsOf(this.#dir('freezer') ?? this.dirs[0]!);
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

  /** Whether the group is pooled (a run without limits): its usage is not the run's alone. */
  get pooledGroup(): boolean {
    return this.#pooled;
  }

  /**
   * Removes the group (after {@link kill}, or once it is empty); a pooled group that is empty goes
   * back to the pool instead. Idempotent. `empty`: the caller has just seen it empty (one read less).
   */
  async remove(opts: { empty?: boolean } = {}): Promise<void> {
    if (this.#removed) return;
    this.#removed = true;
    // An empty group stays empty: only a member can fork into it (and only we write its tasks).
    const empty = opts.empty === true || !this.alive() || (await this.kill(), !this.alive());
    const dir = this.dirs[0]!;
    if (this.#pooled && !this.#tainted && freeGroups.length < POOL_MAX && empty) {
      const name = path.join(path.dirname(dir), `pool-${process.pid}-${++poolSeq}`);
      if (tryRename(dir, name)) {
        freeGroups.push({ dir: name, tasksFd: this.#tasksFd });
        return;
      }
    }
    closeFd(this.#tasksFd);
    this.#tasksFd = null;
    for (const d of this.dirs) await rmdirSoon(d);
  }
}

function tryRename(from: string, to: string): boolean {
  try {
    fs.renameSync(from, to);
    return true;
  } catch {
    return false;
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

/**
 * Pids in a group, never this process: the run host's thread is inside a v1 group for the instant
 * of a spawn (enterForSpawn), and a kill of the group must never take the host with it.
 */
const procsOf = (dir: string): number[] => {
  try {
    return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number).filter((p) => p !== process.pid);
  } catch {
    return [];
  }
};

let tid: string | null = null;
/** The calling thread's kernel id (the main thread's is the pid; ProcessRun runs on it, in the run host). */
function threadId(): string {
  tid ??= fs.readlinkSync('/proc/thread-self').split('/').pop()!;
  return tid;
}

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
      // The group can vanish while it freezes (another path removed it once its last process
      // ended: a fresh-clone CI saw ENOENT here fail an executor crash): nothing is left to wait for.
      for (let i = 0; i < 20; i++) {
        const state = tryRead(path.join(freezer, 'freezer.state'));
        if (state === null || state.trim() === 'FROZEN') break;
        await wait(5);
      }
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

/**
 * At a clean stop: removes this scheduler's own groups — the (empty) pooled ones its run host
 * kept, then the owner group — and the parent if it is empty. A group something still runs in is
 * left (rmdir refuses it); the next start removes it as a dead owner's.
 */
export function removeOwnGroups(backend = containment().backend): void {
  if (!backend) return;
  for (const g of freeGroups) closeFd(g.tasksFd);
  freeGroups.length = 0;
  for (const h of backend.hierarchies) {
    const owner = path.join(h.base, backend.ownerName);
    try {
      for (const e of fs.readdirSync(owner, { withFileTypes: true })) if (e.isDirectory()) tryRmdir(path.join(owner, e.name));
    } catch {
      // no owner group
    }
    tryRmdir(owner);
    // A v2 parent carries its delegated controllers: kept (like a systemd slice).
    if (backend.version === 1) tryRmdir(h.base);
  }
}
