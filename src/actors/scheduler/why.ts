/** `rae-sched why`: what could keep a job from running, in words a person can act on. */
import type { Job } from '../../model/job';
import type { Run } from '../../model/run';
import type { Schedule } from '../parser/schedule';

/** Facts about one job at one moment. */
export interface BlockerFacts {
  job: Job;
  schedule: Schedule | undefined;
  /** True when no daemon runs on the data directory (the CLI's offline mode). */
  offline: boolean;
  /** This job's runs executing now. */
  running: Run[];
  runningTotal: number;
  maxConcurrent: number;
  /** `--after` upstream jobs (as written) that no longer exist. */
  missingUpstreams?: string[];
}

/** Each reason the job may not fire or start right now (empty when nothing stands in its way). */
export function explainBlockers(f: BlockerFacts): string[] {
  const { job, schedule } = f;
  const out: string[] = [];
  if (f.offline) out.push('no daemon is running on this data directory: nothing fires until `rae-sched daemon` runs');
  if (!job.enabled) out.push('the job is paused (rae-sched resume to restart it)');
  if (job.completedAt !== null) out.push(`one-time job: it fired its only slot (done at ${job.completedAt})`);
  if (schedule === undefined) out.push('its stored schedule no longer parses');
  else if (schedule.kind === 'event') {
    out.push(schedule.event === 'never'
      ? "schedule 'never': it fires only through `run` or a trigger"
      : '@reboot: it fires when the daemon starts');
  }
  if (f.running.length > 0 && job.overlap === 'skip') {
    out.push(`a run (${f.running[0]!.id}) is still running and overlap is 'skip': slots that come meanwhile are skipped`);
  }
  for (const up of f.missingUpstreams ?? []) {
    out.push(`--after '${up}': no such job any more (removed or renamed): that trigger can never fire`);
  }
  if (f.runningTotal >= f.maxConcurrent) out.push(`the executor is at capacity (${f.maxConcurrent} runs at once)`);
  return out;
}
