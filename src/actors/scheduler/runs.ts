/** Small pure helpers that build runs, slots and schedule states from the scheduler's facts. */
import { newId } from '../../model/ids';
import type { Job, JobState } from '../../model/job';
import type { Run, RunTrigger, Slot, SlotOutcome } from '../../model/run';
import { eventWordOf } from '../parser/english';
import type { RunResult } from '../executor/types';

/**
 * ISO text of recent instants. A batch of fires shares its slot's instant and a few `now`s, but
 * each fire formats them in turn (run, slot, recorded-at, state), so a one-entry memo missed on
 * almost every call (13% of the scheduler thread with 10,000 fires a second). Bounded: cleared
 * when full.
 */
const isoCache = new Map<number, string>();
const ISO_CACHE_MAX = 256;

/** ISO form of an epoch-ms instant (recent ones remembered, see isoCache). */
export const iso = (ms: number): string => {
  let text = isoCache.get(ms);
  if (text === undefined) {
    if (isoCache.size >= ISO_CACHE_MAX) isoCache.clear();
    text = new Date(ms).toISOString();
    isoCache.set(ms, text);
  }
  return text;
};

/** A new run, queued. */
export function newRun(job: Job, trigger: RunTrigger, scheduledAt: number, attempt: number, now: number): Run {
  return {
    id: newId('run', now),
    jobId: job.id,
    attempt,
    trigger,
    status: 'queued',
    exitCode: null,
    signal: null,
    scheduledAt: iso(scheduledAt),
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    peakMemoryBytes: null,
    error: null,
    output: '',
  };
}

/** The durable record of one slot's outcome. */
export function newSlot(jobId: string, at: number, outcome: SlotOutcome, runId: string | null,
  reason: string | null, now: number): Slot {
  return { jobId, at: iso(at), outcome, runId, reason, recordedAt: iso(now) };
}

/**
 * A run with the executor's result applied. Times stay in the scheduler's clock domain (the
 * injected Clock, virtual in tests): `startedAt` is when the run was dispatched, `finishedAt` is
 * `now`; the duration is the process's own, measured by the worker.
 */
export function finishRun(run: Run, result: RunResult, now: number): Run {
  return {
    ...run,
    status: result.status,
    exitCode: result.exitCode,
    signal: result.signal,
    startedAt: run.startedAt ?? iso(result.startedAt),
    finishedAt: iso(now),
    durationMs: result.durationMs,
    peakMemoryBytes: result.peakMemoryBytes,
    error: result.error,
    output: result.output,
  };
}

/** A run that will never execute (interrupted at a crash, or dropped from the queue). */
export function abandonRun(run: Run, status: 'interrupted' | 'skipped', error: string, now: number): Run {
  return {
    ...run,
    status,
    error,
    finishedAt: iso(now),
    durationMs: run.startedAt === null ? null : Math.max(0, now - Date.parse(run.startedAt)),
  };
}

/** The state a person sees in `status` / `list`. */
export function jobState(job: Pick<Job, 'enabled' | 'completedAt' | 'schedule'>): JobState {
  if (job.completedAt !== null) return 'done';
  if (!job.enabled) return 'paused';
  // Told from the text (the event-only words), so a read needs no parse for it.
  if (eventWordOf(job.schedule) !== null) return 'waiting';
  return 'scheduled';
}

/**
 * `lastRun` of a job: its newest final run (from the store), or the newest of its runs executing
 * now if that is newer — ids sort by creation time. The one rule of every path that shows a job
 * (the read view, daemon or offline: src/reads/read-view.ts; the scheduler actor's answers: job-desk.ts).
 */
export function lastRunOf<R extends { id: string }>(final: R | null, running: readonly Run[]): R | Run | null {
  let last: R | Run | null = final;
  for (const r of running) if (last === null || r.id >= last.id) last = r;
  return last;
}
