/**
 * Processes a crashed scheduler left behind. Runs execute in their own process group, which a
 * `kill -9` of the daemon does not take down; on the next start their runs are `interrupted`, so
 * their processes must go too, or a "stopped" job keeps running unseen. Every run's processes carry
 * `RAE_SCHED_RUN_ID` in their environment (set by the run task and inherited by children, also by
 * descendants that left the group with setsid), which identifies them without trusting a stored
 * pid that the OS may have reused.
 *
 * They also carry `RAE_SCHED_OWNER=PID:STARTTIME`, the scheduler process that started them
 * (src/workers/run/job-env.ts). A process whose owner is another scheduler that is still alive
 * (same pid AND same kernel start time: a `rae-sched run` in the foreground, another library user)
 * is not an orphan: it is left alone, and so is its run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { processStartTime } from '../../workers/run/job-env';

/** What {@link killOrphans} did. */
export interface OrphanReport {
  killed: number[];
  /** Runs whose processes belong to another scheduler that is still alive: not ours to touch. */
  ownedElsewhere: Set<string>;
}

/** Whether the owner token `PID:STARTTIME` names a live process other than `self`. */
export function ownerAlive(token: string | undefined, self: number = process.pid): boolean {
  if (token === undefined) return false;
  const [pidText, start] = token.split(':');
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === self) return false;
  return start !== undefined && processStartTime(pid) === start;
}

/**
 * Sends SIGKILL to every process (and its group, when it leads one) whose environment names one
 * of `runIds` and whose owning scheduler is gone (or is us). Linux only (reads /proc); elsewhere it
 * does nothing. Never throws.
 */
export function killOrphans(runIds: ReadonlySet<string>, self: number = process.pid): OrphanReport {
  const killed: number[] = [];
  const ownedElsewhere = new Set<string>();
  if (runIds.size === 0 || process.platform !== 'linux') return { killed, ownedElsewhere };
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return { killed, ownedElsewhere };
  }
  const victims: Array<{ pid: number; runId: string }> = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name) || Number(name) === self) continue;
    const pid = Number(name);
    let env: string;
    try {
      env = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue; // gone, or not ours to read
    }
    const runId = /(?:^|\0)RAE_SCHED_RUN_ID=([^\0]*)/.exec(env)?.[1];
    if (runId === undefined || !runIds.has(runId)) continue;
    const owner = /(?:^|\0)RAE_SCHED_OWNER=([^\0]*)/.exec(env)?.[1];
    if (ownerAlive(owner, self)) ownedElsewhere.add(runId);
    else victims.push({ pid, runId });
  }
  for (const { pid, runId } of victims) {
    // One process of a run with a live owner protects the whole run (its other processes are the
    // same run's, perhaps started before the owner token existed).
    if (ownedElsewhere.has(runId)) continue;
    try {
      const pgrp = Number(readFileSync(`/proc/${pid}/stat`, 'latin1').replace(/^.*\) /s, '').split(' ')[2]);
      if (pgrp === pid) process.kill(-pid, 'SIGKILL');
      else process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // Already gone.
    }
  }
  return { killed, ownedElsewhere };
}
