/**
 * A run's whole process tree, including descendants that left its process group (`setsid`,
 * daemonising double forks). Every process of a run carries `RAE_SCHED_RUN_ID=<run id>` in its
 * environment (src/workers/run/job-env.ts) and inherits it to its children; /proc shows it. So the
 * tree is: the run's process group, plus every live process started after the run whose
 * environment names the run. This is the containment mechanism in force where cgroups are not
 * delegated to the scheduler (docs/jobs.md "Containment"): escaped descendants are counted in the
 * run's usage (memory limit, peak memory) and killed when the run ends, times out or is killed.
 *
 * Limits (said in docs/jobs.md): a process that replaces its environment (`env -i`) before
 * escaping is not seen; only Linux has /proc.
 */
import fs from 'node:fs';

const PROC = '/proc';
const STAT_BYTES = 1024;

interface StatHead {
  state: string;
  pgrp: number;
  /** Start time, clock ticks after boot (field 22). */
  start: number;
}

function parseStat(text: string): StatHead | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const f = text.slice(close + 2).split(' ');
  const pgrp = Number(f[2]);
  const start = Number(f[19]);
  return f[0] && Number.isInteger(pgrp) && Number.isFinite(start) ? { state: f[0], pgrp, start } : null;
}

function readSmall(path: string, buf: Buffer): string | null {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    return buf.toString('latin1', 0, fs.readSync(fd, buf, 0, buf.length, 0));
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/** Start time (clock ticks after boot) of `pid`, or null. */
export function startTicks(pid: number): number | null {
  const text = readSmall(`${PROC}/${pid}/stat`, Buffer.allocUnsafe(STAT_BYTES));
  const st = text === null ? null : parseStat(text);
  return st ? st.start : null;
}

/** The live processes of a run, split into its group and those that escaped it. `null` without /proc. */
export interface RunTree {
  group: number[];
  escaped: number[];
}

/**
 * One /proc scan: live members of process group `pgid`, and live processes outside it, started at
 * or after `sinceTicks`, whose environment holds `RAE_SCHED_RUN_ID=runId`. Only young processes'
 * environments are read (a cheap filter: everything older than the run cannot be its descendant).
 */
export function runTree(pgid: number, runId: string, sinceTicks: number): RunTree | null {
  let entries: string[];
  try {
    entries = fs.readdirSync(PROC);
  } catch {
    return null;
  }
  const buf = Buffer.allocUnsafe(STAT_BYTES);
  const marker = `RAE_SCHED_RUN_ID=${runId}\0`;
  const tree: RunTree = { group: [], escaped: [] };
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const text = readSmall(`${PROC}/${name}/stat`, buf);
    const st = text === null ? null : parseStat(text);
    if (!st || st.state === 'Z' || st.state === 'X') continue;
    if (st.pgrp === pgid) {
      tree.group.push(Number(name));
      continue;
    }
    if (st.start < sinceTicks) continue;
    let env: string;
    try {
      env = fs.readFileSync(`${PROC}/${name}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (env.startsWith(marker) || env.includes(`\0${marker}`)) tree.escaped.push(Number(name));
  }
  return tree;
}

/** SIGKILLs the run's escaped descendants (and their own groups). Returns how many were signalled. */
export function killEscaped(pgid: number, runId: string, sinceTicks: number): number {
  const tree = runTree(pgid, runId, sinceTicks);
  if (!tree) return 0;
  let n = 0;
  for (const pid of tree.escaped) {
    try {
      process.kill(pid, 'SIGKILL');
      n++;
    } catch {
      // gone already
    }
  }
  return n;
}
