/**
 * `status` / `why` of a trigger job: each trigger (and an `@reboot` schedule) with its last fire and
 * the runs it caused, from the per-trigger records the scheduler writes on each fire
 * (src/actors/persistence/trigger-fires.ts).
 */
import type { ComponentHealth } from '../api';
import type { Job } from '../model/job';
import { formatDuration } from '../model/duration';
import { triggerText, type TriggerStatus } from '../model/trigger-status';
import type { Schedule } from '../actors/parser/schedule';
import type { StoredTriggerFire } from '../actors/persistence/trigger-fires';
import { REBOOT_KEY } from '../actors/scheduler/trigger-log';

/**
 * The job's trigger statuses. `exists` says whether an `--after` upstream (name or id, as written)
 * is still a job.
 */
export function triggerStatusOf(job: Job, schedule: Schedule | undefined, fires: Map<string, StoredTriggerFire>,
  exists: (ref: string) => boolean): TriggerStatus[] {
  const out: TriggerStatus[] = [];
  if (schedule?.kind === 'event' && schedule.event === 'reboot') {
    out.push(status(null, null, '@reboot', fires.get(REBOOT_KEY)));
  }
  job.triggers.forEach((t, i) => {
    const s = status(i, t, triggerText(t, formatDuration), fires.get(String(i)));
    if (t.type === 'after') s.upstreamExists = exists(t.job);
    out.push(s);
  });
  return out;
}

function status(index: number | null, trigger: TriggerStatus['trigger'], text: string, f: StoredTriggerFire | undefined): TriggerStatus {
  return {
    index, trigger, text,
    lastFiredAt: f?.lastFiredAt ?? null, lastReason: f?.lastReason ?? null, lastRunId: f?.lastRunId ?? null,
    fires: f?.fires ?? 0, runs: (f?.fires ?? 0) - (f?.skipped ?? 0), skipped: f?.skipped ?? 0,
    recentRunIds: f?.recentRunIds ?? [],
  };
}

/** `--after` upstreams (as written) of the job that are no longer jobs. */
export function missingUpstreams(job: Pick<Job, 'triggers'>, exists: (ref: string) => boolean): string[] {
  return job.triggers.flatMap((t) => (t.type === 'after' && !exists(t.job) ? [t.job] : []));
}

/** Most dangling `--after` edges named in the health detail (the rest are counted). */
const NAMED_DANGLING = 5;

/**
 * The `dependencies` health component: `--after` upstreams that no longer exist (their dependents
 * never fire). Degraded, not unhealthy: the scheduler works, a job needs a person. Null when none.
 */
export function danglingComponent(list: Array<{ name: string; upstream: string }>): ComponentHealth | null {
  if (list.length === 0) return null;
  const named = list.slice(0, NAMED_DANGLING).map((d) => `${d.name} --after '${d.upstream}'`).join(', ');
  const more = list.length > NAMED_DANGLING ? ` and ${list.length - NAMED_DANGLING} more` : '';
  const jobs = list.length === 1 ? '1 job waits' : `${list.length} jobs wait`;
  return { healthy: true, degraded: true, detail: `${jobs} on a job that no longer exists (never fires): ${named}${more}` };
}

/** Dangling `--after` edges from stored job heads (the CLI without a daemon). */
export function danglingFromHeads(heads: Array<{ id: string; name: string; done: boolean; after: string[] }>): Array<{ name: string; upstream: string }> {
  const refs = new Set<string>();
  for (const h of heads) {
    refs.add(h.id);
    refs.add(h.name);
  }
  return heads.flatMap((h) => (h.done ? [] : h.after.filter((up) => !refs.has(up)).map((upstream) => ({ name: h.name, upstream }))));
}
