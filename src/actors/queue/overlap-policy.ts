/**
 * Overlap policy (CONTRACT `--overlap skip|queue|allow|replace`, default `skip`): what to do with a
 * new slot of a job that already has a run in progress or waiting.
 */
import { ValidationError } from '../../errors';
import { OVERLAP_POLICIES, type OverlapPolicy } from '../../model/job';

/**
 * What the scheduler does with the new run:
 * - `start`: put it in the ready queue now (it starts when the executor has capacity);
 * - `enqueue`: hold it until the job's running run finishes, then put it in the ready queue;
 * - `skip`: do not run it (record the slot as `skipped` with the reason);
 * - `replace`: cancel the job's running and queued runs, then start this one.
 */
export type OverlapDecision = 'start' | 'skip' | 'enqueue' | 'replace';

/** How many runs of the job exist: `running` executing, `queued` waiting (ready queue or held). */
export interface OverlapState {
  running: number;
  queued: number;
}

/** The decision with a reason a person can read (for `skip`/`enqueue`/`replace`; null for `start`). */
export interface OverlapVerdict {
  decision: OverlapDecision;
  reason: string | null;
}

/**
 * Decides what to do with a new slot of a job, given its runs in progress and waiting, with the reason.
 * @throws ValidationError for an unknown policy or counts that are not integers >= 0
 * @example
 * explainOverlap('skip', { running: 1, queued: 0 }).decision // 'skip'
 * explainOverlap('queue', { running: 1, queued: 0 }).decision // 'enqueue'
 */
export function explainOverlap(policy: OverlapPolicy, state: OverlapState): OverlapVerdict {
  for (const f of ['running', 'queued'] as const) {
    const v = state?.[f];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new ValidationError(`overlap state ${f} must be an integer >= 0, got ${String(v)}`, f);
    }
  }
  const { running, queued } = state;
  const busy = running > 0 || queued > 0;
  switch (policy) {
    case 'skip':
      if (running > 0) return { decision: 'skip', reason: `overlap=skip: ${running} run(s) of the job still running` };
      if (queued > 0) return { decision: 'skip', reason: `overlap=skip: a run of the job is already waiting to start` };
      return { decision: 'start', reason: null };
    case 'queue':
      // At most ONE waits behind the running one: a backlog of identical runs helps nobody.
      if (queued > 0) return { decision: 'skip', reason: `overlap=queue: a run is already queued behind the running one` };
      if (running > 0) return { decision: 'enqueue', reason: `overlap=queue: waiting for the running run to finish` };
      return { decision: 'start', reason: null };
    case 'allow':
      return { decision: 'start', reason: null };
    case 'replace':
      if (busy) return { decision: 'replace', reason: `overlap=replace: cancelling ${running} running and ${queued} queued run(s)` };
      return { decision: 'start', reason: null };
    default:
      throw new ValidationError(`overlap must be one of ${OVERLAP_POLICIES.join('|')}, got ${String(policy)}`, 'overlap');
  }
}
