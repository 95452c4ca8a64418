/**
 * Process-group helpers: every run is spawned as the leader of its own group (`detached: true`), so
 * killing `-pgid` reaches the job and everything it started, and /proc tells us who is still in it.
 */
import { promises as fs } from 'node:fs';

const PROC = '/proc';

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
 */
export async function groupMembers(pgid: number): Promise<number[] | null> {
  let entries: string[];
  try {
    entries = await fs.readdir(PROC);
  } catch {
    return null;
  }
  const pids: number[] = [];
  await Promise.all(
    entries.map(async (name) => {
      if (!/^\d+$/.test(name)) return;
      try {
        const stat = parseStat(await fs.readFile(`${PROC}/${name}/stat`, 'utf8'));
        if (stat && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') pids.push(Number(name));
      } catch {
        // The process exited between readdir and read: it is not a member any more.
      }
    }),
  );
  return pids;
}

/** Whether any live process remains in the group. */
export async function groupAlive(pgid: number): Promise<boolean> {
  const members = await groupMembers(pgid);
  if (members) return members.length > 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
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
    if (!(await groupAlive(pgid))) return;
    await wait(POLL_MS);
  }
  signalGroup(pgid, 'SIGKILL');
  // SIGKILL cannot be ignored; this only waits for the kernel to finish tearing the processes down.
  const killDeadline = Date.now() + 5000;
  while (Date.now() < killDeadline && (await groupAlive(pgid))) {
    signalGroup(pgid, 'SIGKILL');
    await wait(POLL_MS);
  }
}
