/**
 * Process-group helpers: every run is spawned as the leader of its own group (`detached: true`), so
 * killing `-pgid` reaches the job and everything it started, and /proc tells us who is still in it.
 */
import fs from 'node:fs';

const PROC = '/proc';
/** A stat line is ~300 bytes; `comm` is at most 16. Longer never happens, and we only need the head. */
const STAT_BYTES = 1024;

/** Parses `/proc/<pid>/stat`: the state and process group. `comm` may hold spaces and parens. */
function parseStat(text: string): { state: string; pgrp: number } | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text.slice(close + 2).split(' ');
  const pgrp = Number(fields[2]);
  return fields[0] && Number.isInteger(pgrp) ? { state: fields[0], pgrp } : null;
}

/**
 * Live (non-zombie) pids in process group `pgid`, from /proc; `null` where /proc is unavailable
 * (callers then fall back to the group leader). Zombies are excluded: in a container whose init does
 * not reap, a killed grandchild stays a zombie forever, and it holds no resources.
 *
 * Synchronous on purpose: /proc files are generated from kernel memory and never wait on a disk,
 * so a blocking open/read/close is a few microseconds, while `fs.promises.readFile` costs an
 * open, fstat, read and close, each a thread-pool round trip, per process on the machine. That
 * async scan, run twice per run, was over half of the executor threads' CPU (docs/benchmarks.md).
 */
export function groupMembers(pgid: number): number[] | null {
  let entries: string[];
  try {
    entries = fs.readdirSync(PROC);
  } catch {
    return null;
  }
  const buf = Buffer.allocUnsafe(STAT_BYTES);
  const pids: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let fd: number;
    try {
      fd = fs.openSync(`${PROC}/${name}/stat`, 'r');
    } catch {
      continue; // The process exited between readdir and open: it is not a member any more.
    }
    try {
      const stat = parseStat(buf.toString('latin1', 0, fs.readSync(fd, buf, 0, STAT_BYTES, 0)));
      if (stat && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') pids.push(Number(name));
    } catch {
      // ESRCH on read: the process exited after open.
    } finally {
      fs.closeSync(fd);
    }
  }
  return pids;
}

/**
 * Whether any live process remains in the group. `kill(-pgid, 0)` answers "nobody at all" without
 * touching /proc — the common case once a run's process has exited and been reaped; only a group
 * that still has someone (perhaps only zombies) needs the scan.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    // ESRCH: no process in the group. EPERM: someone is there, just not ours to signal.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const members = groupMembers(pgid);
  return members ? members.length > 0 : true;
}

/** Sends `signal` to the whole group; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nobody left in the group.
  }
}

const POLL_MS = 50;
const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * SIGTERM to the group, up to `graceMs` for it to empty, then SIGKILL and wait (bounded) until the
 * kernel has removed every member. Resolves once nothing of the group is running.
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  const termDeadline = Date.now() + graceMs;
  while (Date.now() < termDeadline) {
    if (!groupAlive(pgid)) return;
    await wait(POLL_MS);
  }
  signalGroup(pgid, 'SIGKILL');
  // SIGKILL cannot be ignored; this only waits for the kernel to finish tearing the processes down.
  const killDeadline = Date.now() + 5000;
  while (Date.now() < killDeadline && groupAlive(pgid)) {
    signalGroup(pgid, 'SIGKILL');
    await wait(POLL_MS);
  }
}
