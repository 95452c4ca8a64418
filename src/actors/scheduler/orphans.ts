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
import { environOf, envValue, scanProc } from '../../workers/run/proc-scan';
import { ownerAlive } from '../../workers/run/job-env';

export { ownerAlive } from '../../workers/run/job-env';

/** What {@link killOrphans} did. */
export interface OrphanReport {
  killed: number[];
  /** Runs whose processes belong to another scheduler that is still alive: not ours to touch. */
  ownedElsewhere: Set<string>;
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
  const victims: Array<{ pid: number; runId: string; leader: boolean }> = [];
  scanProc((pid, st) => {
    if (pid === self) return;
    const env = environOf(pid);
    const runId = env === null ? undefined : envValue(env, 'RAE_SCHED_RUN_ID');
    if (runId === undefined || !runIds.has(runId)) return;
    if (ownerAlive(envValue(env!, 'RAE_SCHED_OWNER'), self)) ownedElsewhere.add(runId);
    else victims.push({ pid, runId, leader: st.pgrp === pid });
  });
  for (const { pid, runId, leader } of victims) {
    // One process of a run with a live owner protects the whole run (its other processes are the
    // same run's, perhaps started before the owner token existed).
    if (ownedElsewhere.has(runId)) continue;
    try {
      if (leader) process.kill(-pid, 'SIGKILL');
      else process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // Already gone.
    }
  }
  return { killed, ownedElsewhere };
}
