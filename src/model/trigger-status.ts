/**
 * What a job's triggers did (`status` / `why` of a trigger job): each trigger with its last fire and
 * the runs its fires caused. docs/triggers.md "What each trigger did".
 */
import type { TriggerSpec } from './job';

/** One fire of a trigger, as the scheduler notes it on the fire path. */
export interface TriggerFireNote {
  jobId: string;
  /** Which trigger fired: its index in the job's `triggers` (as a string), or `reboot` (`@reboot`). */
  key: string;
  /** ISO instant of the fire. */
  at: string;
  /** The fire's reason, one line (`watch: /data/a.csv changed`, `after build succeeded (run_...)`). */
  reason: string;
  /** The run it caused: queued, or `skipped` by the overlap policy. */
  runId: string;
  skipped: boolean;
}

/** One trigger of a job and what it caused (the durable part is kept per trigger, not per run). */
export interface TriggerStatus {
  /** Index in the job's `triggers`; null for the job's event schedule (`@reboot`). */
  index: number | null;
  /** The trigger as given; null for `@reboot`. */
  trigger: TriggerSpec | null;
  /** The trigger in words: `watch /data/inbox`, `after build succeeded`, `when cpu idle for 10m`, `@reboot`. */
  text: string;
  /** ISO instant of its last fire; null when it never fired (since the record was kept). */
  lastFiredAt: string | null;
  lastReason: string | null;
  /** Run of the last fire (possibly a `skipped` one). */
  lastRunId: string | null;
  /** Fires recorded; `runs` of them became runs, `skipped` were skipped by the overlap policy. */
  fires: number;
  runs: number;
  skipped: number;
  /** Ids of the newest runs it caused (at most 5, newest first). */
  recentRunIds: string[];
  /** `after` triggers: false when the upstream job no longer exists (it can never fire). */
  upstreamExists?: boolean;
}

/** A trigger in words, as `status` and `why` show it (`when cpu idle for 10m (cooldown 15m)`). */
export function triggerText(t: TriggerSpec, formatMs: (ms: number) => string): string {
  if (t.type === 'watch') return `watch ${t.paths.join(', ')}`;
  if (t.type === 'after') return `after ${t.job} ${t.on}`;
  return `when ${t.condition}${t.cooldownMs !== undefined ? ` (cooldown ${formatMs(t.cooldownMs)})` : ''}`;
}
