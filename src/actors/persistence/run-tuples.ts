/**
 * Runs as they cross the thread boundary to the persistence thread in a commit: tuples, not
 * objects. Structured clone writes every property name of every object it copies and the
 * receiving thread builds each object key by key; a W1 run crosses twice (its queued record and
 * its final one), so the names were most of the bytes and of the copy's cost (a 14-field run:
 * ~310 bytes as an object, ~180 as a tuple; serialize + deserialize ~40% cheaper). The store
 * still gets plain {@link Run}s: the tuple is a wire form only, unpacked in the persistence actor.
 * @internal
 */
import type { Run } from '../../model/run';
import type { Batch } from './port';

/** A run's fields in a fixed order (the order of {@link Run} as the scheduler makes it). */
export type RunTuple = [
  id: string, jobId: string, attempt: number, trigger: Run['trigger'], status: Run['status'],
  exitCode: number | null, signal: string | null, scheduledAt: string, startedAt: string | null,
  finishedAt: string | null, durationMs: number | null, peakMemoryBytes: number | null, error: string | null, output: string,
];

/** A {@link Batch} whose `runs` travel as tuples (a plain Batch is accepted where this is). */
export type WireBatch = Omit<Batch, 'runs'> & { runs: Array<RunTuple | Run> };

/** The tuple of a run. */
export function runTuple(r: Run): RunTuple {
  return [r.id, r.jobId, r.attempt, r.trigger, r.status, r.exitCode, r.signal, r.scheduledAt, r.startedAt, r.finishedAt,
    r.durationMs, r.peakMemoryBytes, r.error, r.output];
}

/** The run of a tuple (a run passed as an object is returned as it is). */
export function tupleRun(t: RunTuple | Run): Run {
  if (!Array.isArray(t)) return t;
  const [id, jobId, attempt, trigger, status, exitCode, signal, scheduledAt, startedAt, finishedAt, durationMs, peakMemoryBytes, error, output] = t;
  return { id, jobId, attempt, trigger, status, exitCode, signal, scheduledAt, startedAt, finishedAt, durationMs, peakMemoryBytes, error, output };
}

/** A batch for the wire: its runs as tuples. */
export function toWire(b: Batch): WireBatch {
  return { ...b, runs: b.runs.map(runTuple) };
}

/**
 * The batch of a wire batch (its runs as objects again). Anything that is not a batch with a
 * `runs` array is returned as it is, for `checkBatch` to refuse with its one clear message.
 */
export function fromWire(b: unknown): Batch {
  const w = b as WireBatch | null | undefined;
  if (w === null || typeof w !== 'object' || !Array.isArray(w.runs)) return w as unknown as Batch;
  return { ...w, runs: w.runs.map(tupleRun) };
}
