/**
 * A run's whole process tree by the /proc marker scan: the fallback containment where no cgroup can
 * be created for the run (docs/jobs.md "Containment"; src/workers/run/cgroup.ts is the first
 * choice). Every process of a run carries `RAE_SCHED_RUN_ID=<run id>` in its environment
 * (src/workers/run/job-env.ts) and inherits it to its children; /proc shows it. So the tree is: the
 * run's process group, plus every live process started after the run whose environment names the
 * run. Escaped descendants are counted in the run's usage and killed when the run ends.
 *
 * Limits (said in docs/jobs.md): a process that replaces its environment (`env -i`) before
 * escaping is not seen; only Linux has /proc.
 */
import { envHas, environOf, scanProc } from './proc-scan';

export { startTicks } from './proc-scan';

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
  const tree: RunTree = { group: [], escaped: [] };
  const entry = `RAE_SCHED_RUN_ID=${runId}`;
  const ok = scanProc((pid, st) => {
    if (st.pgrp === pgid) tree.group.push(pid);
    else if (st.start >= sinceTicks) {
      const env = environOf(pid);
      if (env !== null && envHas(env, entry)) tree.escaped.push(pid);
    }
  });
  return ok ? tree : null;
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
