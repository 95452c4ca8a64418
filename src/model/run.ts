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

/** What `list` shows of a job's newest run: its status and times (and its id, to tell it from a newer one). */
export type RunTimes = Pick<Run, 'id' | 'status' | 'scheduledAt' | 'startedAt' | 'finishedAt'>;

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
  /**
   * A range of `missed` slots in ONE record (a spell behind, or downtime): the first slot's time;
   * `at` is the last one (the record's key), `count` how many slots from `firstAt` to `at` it
   * stands for. Absent on a record of one slot (every record before ranges existed).
   */
  firstAt?: string;
  /** Slots this record stands for (absent: 1). */
  count?: number;
}

/** How many slots a slot record stands for (a missed range: its count; otherwise 1). */
export function slotCount(slot: Pick<Slot, 'count'>): number {
  return slot.count ?? 1;
}

/** The last ISO times read by {@link epochOf}, newest first. */
const parsed: Array<{ text: string; ms: number }> = [{ text: '', ms: NaN }, { text: '', ms: NaN }];

/**
 * Epoch ms of an ISO time of a run (`Date.parse`). The runs of one batch share their times (one
 * `now` per turn), and `Date.parse` costs a few µs, paid per run on the hot path (ready queue,
 * lateness metric): the last two distinct texts are remembered.
 */
export function epochOf(text: string): number {
  const [a, b] = parsed as [{ text: string; ms: number }, { text: string; ms: number }];
  if (text === a.text) return a.ms;
  if (text === b.text) {
    parsed[0] = b;
    parsed[1] = a;
    return b.ms;
  }
  b.text = text;
  b.ms = Date.parse(text);
  parsed[0] = b;
  parsed[1] = a;
  return b.ms;
}
