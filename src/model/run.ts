/** Data shapes of runs and slots (CONTRACT.md "Run (JSON)"). */

/** Why a run exists. */
export type RunTrigger = 'schedule' | 'manual' | 'event' | 'retry' | 'catch-up' | 'dependency';

/** Life of a run: queued → running → one of the final states. */
export type RunStatus =
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'timeout'
  | 'killed'
  | 'interrupted'
  | 'skipped';

/** Final statuses (a run in one of these never changes again). */
export const FINAL_RUN_STATUSES: readonly RunStatus[] = [
  'succeeded', 'failed', 'timeout', 'killed', 'interrupted', 'skipped',
];

/** One execution (attempt) of a job. */
export interface Run {
  id: string;
  jobId: string;
  /** 1 = first attempt. */
  attempt: number;
  trigger: RunTrigger;
  status: RunStatus;
  exitCode: number | null;
  signal: string | null;
  scheduledAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  peakMemoryBytes: number | null;
  error: string | null;
  /** The last 64 KiB of stdout+stderr. */
  output: string;
}

/** What became of one expected fire time ("slot") of a job. */
export type SlotOutcome = 'fired' | 'skipped' | 'missed' | 'deduped' | 'caught-up';

/** The durable record of one slot, so history explains every expected run. */
export interface Slot {
  jobId: string;
  /** The slot's nominal fire time (ISO, UTC). */
  at: string;
  outcome: SlotOutcome;
  /** The run this slot produced, if any. */
  runId: string | null;
  /** Why it was skipped / missed / deduped. */
  reason: string | null;
  recordedAt: string;
}
