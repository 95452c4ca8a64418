/**
 * Shapes shared by the harness and the workloads: what a measurement is, what a child sends back,
 * and the rows of the one table `npm run bench` prints.
 */

/** `--quick` (smaller sizes, 2 repetitions, < 2 minutes) or a full run (5 repetitions). */
export type Mode = 'quick' | 'full';

/** What a measured thing is beside rae-scheduler's own figure. */
export type Role = 'rae' | 'ceiling' | 'peer' | 'floor' | 'setup' | 'diagnostic';

/** What one child process sends back: named numbers, and notes a reader must see. */
export interface Sample {
  metrics: Record<string, number>;
  /** Honest remarks: "reached 1,204 of 20,000 within the 20 s budget", "isolation: process". */
  notes?: string[];
}

/** One thing measured, in a fresh child process per repetition. */
export interface MeasurementSpec {
  /** Unique in the run, e.g. `W1.piscina`. */
  id: string;
  /** What a reader sees, e.g. `raw Piscina, same no-op task`. */
  label: string;
  role: Role;
  /** Built .js file whose `childMain` holds `fn`. */
  file: string;
  fn: string;
  args: unknown;
  /** Kill the child after this long (the sample is then an error, never dropped). */
  timeoutMs: number;
  /** Extra node flags (the harness always adds --expose-gc). */
  execArgv?: string[];
}

/** Median and spread of one metric over the repetitions. */
export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  /** (max − min) / |median|: 0.1 means the repetitions spread over 10% of the median. */
  spread: number;
}

/** Everything measured for one spec: the raw samples, failures, and per-metric summaries. */
export interface MeasurementResult {
  id: string;
  label: string;
  role: Role;
  args: unknown;
  samples: Sample[];
  /** One line per repetition that failed (crash, timeout): kept, shown, never dropped. */
  errors: string[];
  summary: Record<string, Summary>;
  notes: string[];
}

/** One line of the table. Figures are already formatted; `ratio` is rae ÷ beside (or as stated). */
export interface Row {
  workload: string;
  what: string;
  rae: string;
  beside: string;
  ratio: number | null;
  goal: string | null;
  /** null when the row has no goal. */
  met: boolean | null;
  note?: string;
}

/**
 * One bar of the chart: a ratio where higher is better and `goal` marks what the issue asks for
 * (e.g. 0.7 for "W1 ≥ 0.7x raw Piscina"; 1 for "p99 no worse than croner's").
 */
export interface Headline {
  label: string;
  value: number | null;
  goal: number | null;
  met: boolean | null;
}

/** What a workload gives the harness once its measurements are in. */
export interface Evaluation {
  rows: Row[];
  headline: Headline[];
}
