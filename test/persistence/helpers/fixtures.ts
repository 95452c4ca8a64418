/** Test data and temp directories for the persistence tests. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Job } from '../../../src/model/job';
import type { Run, Slot } from '../../../src/model/run';
import { newId } from '../../../src/model/ids';

/** A fresh temp data directory; remove it with {@link removeDir}. */
export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rae-persist-'));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

const T0 = Date.parse('2026-03-01T00:00:00.000Z');

/** A valid stored job; `n` spaces creation times one second apart. */
export function makeJob(n: number, over: Partial<Job> = {}): Job {
  const at = new Date(T0 + n * 1000).toISOString();
  return {
    id: newId('job', T0 + n * 1000), name: `job-${n}`, schedule: 'every 5 minutes', timezone: null,
    command: 'echo hi', module: null, enabled: true, priority: 0, retry: { maxRetries: 0, backoffMs: 1000 },
    limits: { timeoutMs: 5000 }, overlap: 'skip', catchUp: 'once', cwd: null, env: {}, triggers: [],
    jitterMs: 0, createdAt: at, updatedAt: at, completedAt: null, nextRunAt: null, lastRun: null,
    state: 'scheduled', ...over,
  };
}

/** A valid run of `jobId`; `n` orders ids and times (higher = newer). */
export function makeRun(jobId: string, n: number, over: Partial<Run> = {}): Run {
  const at = T0 + 3_600_000 + n * 60_000;
  return {
    id: newId('run', at), jobId, attempt: 1, trigger: 'schedule', status: 'succeeded', exitCode: 0,
    signal: null, scheduledAt: new Date(at).toISOString(), startedAt: new Date(at).toISOString(),
    finishedAt: new Date(at + 10).toISOString(), durationMs: 10, peakMemoryBytes: null, error: null,
    output: `run ${n}\n`, ...over,
  };
}

/** A slot of `jobId` at minute `n`. */
export function makeSlot(jobId: string, n: number, over: Partial<Slot> = {}): Slot {
  const at = new Date(T0 + 3_600_000 + n * 60_000).toISOString();
  return { jobId, at, outcome: 'fired', runId: null, reason: null, recordedAt: at, ...over };
}

const FINAL_STATUSES = ['succeeded', 'failed', 'timeout', 'killed', 'interrupted', 'skipped'] as const;

/**
 * A final run of `jobId` (the `n`th, of the job numbered `salt`): status and duration (whole
 * milliseconds, so sums are exact in any order) vary with both; skipped runs have no duration.
 */
export function finalRunOf(jobId: string, n: number, salt: number): Run {
  const status = FINAL_STATUSES[(n * 7 + salt) % FINAL_STATUSES.length]!;
  return makeRun(jobId, n, {
    status, exitCode: status === 'succeeded' ? 0 : 1, durationMs: status === 'skipped' ? null : ((n * 37 + salt * 11) % 5000) + 1,
  });
}
