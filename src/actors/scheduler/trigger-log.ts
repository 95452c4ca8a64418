/**
 * Notes each trigger fire (watch, usage condition, `--after`, `@reboot`) for `status` / `why`: which
 * trigger fired, when, why, and the run it caused. Notes made in one turn of the scheduler go to the
 * store in ONE message (one transaction), sent at the end of the turn's synchronous part and not
 * awaited: the fire itself never waits for it. Only trigger fires are noted, never scheduled slots.
 *
 * The note is written beside (not inside) the run's own batch, so a crash between the two can lose
 * the note of a fire whose run is stored; `history` still has the run.
 */
import type { Logger } from '../../api';
import type { Job } from '../../model/job';
import type { Run } from '../../model/run';
import type { TriggerFireNote } from '../../model/trigger-status';
import type { ActorRef } from '../../runtime/types';
import type { PersistenceHandlers } from '../persistence/actor';

/** Key of the `@reboot` schedule in the trigger records (triggers use their index). */
export const REBOOT_KEY = 'reboot';

/** Collects trigger fire notes and writes them per turn. */
export class TriggerLog {
  readonly #persistence: ActorRef<PersistenceHandlers>;
  readonly #logger: Logger;
  #pending: TriggerFireNote[] = [];

  constructor(d: { persistence: ActorRef<PersistenceHandlers>; logger: Logger }) {
    this.#persistence = d.persistence;
    this.#logger = d.logger;
  }

  /** Notes that trigger `key` of `job` fired at `at` (ms) and caused `run` (queued or skipped). */
  note(job: Job, key: string | null, reason: string, run: Run, at: number): void {
    if (key === null) return;
    if (this.#pending.length === 0) queueMicrotask(() => this.#flush());
    this.#pending.push({ jobId: job.id, key, at: new Date(at).toISOString(), reason, runId: run.id, skipped: run.status === 'skipped' });
  }

  #flush(): void {
    const notes = this.#pending;
    this.#pending = [];
    if (notes.length === 0) return;
    this.#persistence.ask('recordTriggerFires', { notes }).catch((err: unknown) =>
      this.#logger.warn({ err: String(err), fires: notes.length }, 'could not record trigger fires'));
  }
}

/**
 * Which of the job's triggers a hub fire came from, by its reason: `watch: ...` is the job's first
 * watch trigger (the hub watches all of a job's paths with one debounce, so several watch entries
 * share one record), `when: TEXT (...)` the `when` trigger with that condition text.
 */
export function eventTriggerKey(job: Job, reason: string): string | null {
  const watch = reason.startsWith('watch:');
  let fallback: number | null = null;
  for (const [i, t] of job.triggers.entries()) {
    if (watch && t.type === 'watch') return String(i);
    if (!watch && t.type === 'when') {
      if (reason.startsWith(`when: ${t.condition.trim()} (`)) return String(i);
      fallback ??= i;
    }
  }
  return fallback === null ? null : String(fallback);
}

/** Index of the `after` trigger of `dep` that the upstream `job`'s outcome fires, or null. */
export function afterTriggerKey(dep: Job, job: Pick<Job, 'id' | 'name'>, outcome: 'succeeded' | 'failed'): string | null {
  const i = dep.triggers.findIndex((t) => t.type === 'after' && (t.job === job.name || t.job === job.id) &&
    (t.on === 'finished' || t.on === outcome));
  return i < 0 ? null : String(i);
}
