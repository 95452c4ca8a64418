/**
 * The one RunResult builder. Every result a run produces — finished in a process or a thread,
 * ended before it really ran, or lost with its worker — is made here, so `durationMs` is always
 * `finishedAt − startedAt` and the unsampled / no-output defaults are written once.
 */
import type { RunOutcome, RunResult } from './types';

/** The parts of a result that differ from run to run; the rest default to "nothing seen". */
export interface RunResultParts {
  status: RunOutcome;
  startedAt: number;
  finishedAt: number;
  exitCode?: number | null;
  signal?: string | null;
  peakMemoryBytes?: number | null;
  error?: string | null;
  output?: string;
}

/** A RunResult from its parts. */
export function runResult(p: RunResultParts): RunResult {
  return {
    status: p.status,
    exitCode: p.exitCode ?? null,
    signal: p.signal ?? null,
    startedAt: p.startedAt,
    finishedAt: p.finishedAt,
    durationMs: p.finishedAt - p.startedAt,
    peakMemoryBytes: p.peakMemoryBytes ?? null,
    error: p.error ?? null,
    output: p.output ?? '',
  };
}

/**
 * A result for a run that ended before it really ran (not started, cancelled early, refused by a
 * closing pool, its thread or worker lost): started and finished now, zero duration.
 * @example endedEarly('failed', "cannot start 'x': no such program (ENOENT)")
 */
export function endedEarly(status: RunOutcome, error: string, output = ''): RunResult {
  const now = Date.now();
  return runResult({ status, startedAt: now, finishedAt: now, error, output });
}
