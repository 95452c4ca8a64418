/** Runs as tuples on the commit wire to the persistence thread (src/actors/persistence/run-tuples.ts). */
import type { Run } from '../../src/model/run';
import type { Batch } from '../../src/actors/persistence/port';
import { fromWire, runTuple, toWire } from '../../src/actors/persistence/run-tuples';

const queued: Run = {
  id: 'run_1', jobId: 'job_1', attempt: 1, trigger: 'manual', status: 'queued', exitCode: null, signal: null,
  scheduledAt: '2030-01-01T00:00:00.000Z', startedAt: null, finishedAt: null, durationMs: null, peakMemoryBytes: null, error: null, output: '',
};
const final: Run = {
  ...queued, id: 'run_2', status: 'failed', exitCode: 2, signal: 'SIGTERM', startedAt: '2030-01-01T00:00:00.005Z',
  finishedAt: '2030-01-01T00:00:01.000Z', durationMs: 995, peakMemoryBytes: 1024, error: 'exited 2 — «ошибка»', output: 'a\nб\n',
};

describe('run tuples', () => {
  it('a batch survives the thread copy: runs as tuples on the wire, the same runs (fields and their order) after it', () => {
    const batch: Batch = { fires: [], runs: [queued, final], states: [], parked: ['run_9'] };
    const wire = structuredClone(toWire(batch));
    expect(wire.runs.every((r) => Array.isArray(r))).toBe(true);
    const back = fromWire(wire);
    expect(back).toStrictEqual(batch);
    for (const r of back.runs) expect(Object.keys(r)).toEqual(Object.keys(queued));
  });

  it('the tuple is smaller on the wire than the object', () => {
    const size = (v: unknown): number => JSON.stringify(v).length;
    expect(size(runTuple(final))).toBeLessThan(size(final) * 0.75);
  });

  it('runs sent as objects (any other caller of commitBatch) pass through; what is not a batch is left for checkBatch to refuse', () => {
    const plain: Batch = { fires: [], runs: [final], states: [] };
    expect(fromWire(plain)).toStrictEqual(plain);
    expect(fromWire(null)).toBeNull();
    expect(fromWire({ fires: [] })).toEqual({ fires: [] });
  });
});
