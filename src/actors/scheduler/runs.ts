/** Small pure helpers that build runs, slots and schedule states from the scheduler's facts. */
import { newId } from '../../model/ids';
import type { Job, JobState } from '../../model/job';
import type { Run, RunTrigger, Slot, SlotOutcome } from '../../model/run';
import { eventWordOf } from '../parser/english';
import type { RunResult } from '../executor/types';

const lastIso = { ms: NaN, text: '' };

/** ISO form of an epoch-ms instant (the last one is remembered: a batch of runs shares one `now`). */
export const iso = (ms: number): string => {
  if (ms !== lastIso.ms) {
    lastIso.text = new Date(ms).toISOString();
    lastIso.ms = ms;
  }
  return lastIso.text;
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
