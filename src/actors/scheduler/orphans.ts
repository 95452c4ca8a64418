/**
 * Processes a crashed scheduler left behind. Runs execute in their own process group, which a
 * `kill -9` of the daemon does not take down; on the next start their runs are `interrupted`, so
 * their processes must go too, or a "stopped" job keeps running unseen. Every run's processes carry
 * `RAE_SCHED_RUN_ID` in their environment (set by the run task and inherited by children), which
 * identifies them without trusting a stored pid that the OS may have reused.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** What {@link killOrphans} did. */
export interface OrphanReport {
  killed: number[];
}

/**
 * Sends SIGKILL to every process (and its group, when it leads one) whose environment names one
 * of `runIds`. Linux only (reads /proc); elsewhere it does nothing. Never throws.
 */
export function killOrphans(runIds: ReadonlySet<string>, self: number = process.pid): OrphanReport {
  const killed: number[] = [];
  if (runIds.size === 0 || process.platform !== 'linux') return { killed };
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return { killed };
  }
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
    try {
      const pgrp = Number(readFileSync(`/proc/${pid}/stat`, 'latin1').replace(/^.*\) /s, '').split(' ')[2]);
      if (pgrp === pid) process.kill(-pid, 'SIGKILL');
      else process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // Already gone.
    }
  }
  return { killed };
}
