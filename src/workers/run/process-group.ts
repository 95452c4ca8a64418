/**
 * Process-group helpers: every run is spawned as the leader of its own group (`detached: true`), so
 * killing `-pgid` reaches the job and everything it started, and /proc tells us who is still in it.
 */
import { scanProc } from './proc-scan';

/**
 * Live (non-zombie) pids in process group `pgid`, from /proc; `null` where /proc is unavailable
 * (callers then fall back to the group leader).
 */
export function groupMembers(pgid: number): number[] | null {
  const pids: number[] = [];
  return scanProc((pid, st) => st.pgrp === pgid && pids.push(pid)) ? pids : null;
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
 * kernel has removed every member. Resolves once nothing of the group is running. `alive` widens
 * "the group" (a run's cgroup: escaped descendants get the same grace).
 */
export async function terminateGroup(pgid: number, graceMs: number, alive: () => boolean = () => groupAlive(pgid)): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  const termDeadline = Date.now() + graceMs;
  while (Date.now() < termDeadline) {
    if (!alive()) return;
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
