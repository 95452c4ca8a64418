/** The compact encoding of job heads, schedule states and runs (codecs.ts), and its reading of older (msgpack) values. */
import { Packr } from 'msgpackr';
import {
  decodeHead, decodeRun, decodeSlot, decodeState, encodeHead, encodeRun, encodeSlot, encodeState, isCompact, slotTag, stateInstants, stateShift, TaggedSlot,
} from '../../src/actors/persistence/codecs';
import { inFrame } from '../../src/actors/persistence/clock-frame';
import type { Run, Slot } from '../../src/model/run';
import type { JobHead } from '../../src/actors/persistence/tables';

const head: JobHead = {
  id: 'job_01JX8YQ0000000000000000000', name: 'nightly — backup ✓', enabled: true, done: false, jitterMs: 2500,
  after: ['upstream', 'другой'], events: true, schedule: '0 3 * * *', timezone: 'Europe/Paris',
};

describe('compact codecs', () => {
  it('round-trips heads, with and without schedule, zone and upstreams', () => {
    const variants: JobHead[] = [
      head,
      { ...head, after: [], events: false, enabled: false, done: true, jitterMs: 0, timezone: null },
      // A head from before heads carried the schedule: both keys absent, and they stay absent.
      { id: 'job_x', name: 'x', enabled: true, done: false, jitterMs: 0, after: [], events: false },
      // Schema 7: the state the head carries (none; untagged with an instant missing; tagged).
      { ...head, state: null },
      { ...head, timezone: null, state: { last: NaN, next: Date.parse('2030-01-01T00:05:00Z'), anchor: 0 } },
      { ...head, after: [], state: { last: 1, next: 2, anchor: 3, offsetMs: -60_000 } },
    ];
    for (const h of variants) {
      const bytes = encodeHead(h);
      expect(isCompact(bytes)).toBe(true);
      expect(decodeHead(bytes)).toStrictEqual(h);
    }
  });

  it('round-trips schedule states, nulls included', () => {
    for (const s of [
      { jobId: 'job_a', lastSlotAt: '2030-01-01T00:00:00.000Z', nextRunAt: '2030-01-01T00:05:00.000Z', anchorAt: '2029-12-31T00:00:00.000Z' },
      { jobId: 'job_b', lastSlotAt: null, nextRunAt: null, anchorAt: null },
      { jobId: 'job_c', lastSlotAt: '+010000-01-01T00:00:00.000Z', nextRunAt: null, anchorAt: '2030-01-01T00:00:00.000Z' },
    ]) {
      expect(decodeState(encodeState(s))).toStrictEqual(s);
    }
  });

  it('a state tagged with its clock offset: round-trips, reads moved by the steps since, untagged ones never move', () => {
    const s = { jobId: 'job_t', lastSlotAt: null, nextRunAt: '2030-01-01T00:10:00.000Z', anchorAt: '2030-01-01T00:00:00.000Z', offsetMs: 60_000 };
    const bytes = encodeState(s);
    expect(decodeState(bytes)).toStrictEqual(s);
    // Start-up reads the instants at the same offsets as an untagged state's, then adds the shift.
    const out = { last: new Float64Array(1), next: new Float64Array(1), anchor: new Float64Array(1) };
    stateInstants(bytes, out, 0);
    expect(out.next[0]).toBe(Date.parse(s.nextRunAt));
    expect(stateShift(bytes, 240_000)).toBe(180_000);
    expect(inFrame(s, 240_000)).toStrictEqual({ ...s, nextRunAt: '2030-01-01T00:13:00.000Z', anchorAt: '2030-01-01T00:03:00.000Z', offsetMs: 240_000 });
    const plain = { jobId: 'job_u', lastSlotAt: null, nextRunAt: '2030-01-01T00:10:00.000Z', anchorAt: null };
    expect(stateShift(encodeState(plain), 240_000)).toBeNull();
    expect(inFrame(plain, 240_000)).toBe(plain);
  });

  it('decodes a value from inside a larger buffer when given its end (as lmdb hands them)', () => {
    const bytes = encodeHead(head);
    const big = Buffer.alloc(bytes.length + 100, 0xee);
    bytes.copy(big);
    expect(decodeHead(big, bytes.length)).toStrictEqual(head);
    expect(decodeHead(new Uint8Array(big.buffer, big.byteOffset, big.length), bytes.length)).toStrictEqual(head);
  });

  it('reads the msgpack records a version 1 store holds', () => {
    const packr = new Packr({ copyBuffers: true });
    const state = { jobId: 'job_a', lastSlotAt: null, nextRunAt: '2030-01-01T00:05:00.000Z', anchorAt: null };
    const old = packr.pack(head);
    expect(isCompact(old)).toBe(false);
    expect(decodeHead(old)).toStrictEqual(head);
    expect(decodeState(packr.pack(state))).toStrictEqual(state);
  });

  it('is smaller than the msgpack record it replaces', () => {
    expect(encodeHead(head).length).toBeLessThan(new Packr().pack(head).length);
    expect(encodeRun(run).length).toBeLessThan(new Packr().pack(run).length);
  });

  it('round-trips runs: queued (nulls, empty output) and final (numbers, UTF-8 text, a big output)', () => {
    const queued: Run = {
      id: 'run_01JX8YQ0000000000000000000', jobId: 'job_01JX8YQ0000000000000000000', attempt: 1, trigger: 'schedule', status: 'queued',
      exitCode: null, signal: null, scheduledAt: '2030-01-01T00:00:00.000Z', startedAt: null, finishedAt: null, durationMs: null,
      peakMemoryBytes: null, error: null, output: '',
    };
    const big = 'ж✓ line\n'.repeat(8000);
    for (const r of [queued, run, { ...run, output: big, durationMs: 0.25, exitCode: -1, peakMemoryBytes: 0 }]) {
      const bytes = encodeRun(r);
      expect(isCompact(bytes)).toBe(true);
      const back = decodeRun(bytes);
      expect(back).toStrictEqual(r);
      // The same field order as the scheduler's runs (their JSON reads the same).
      expect(Object.keys(back)).toEqual(Object.keys(queued));
    }
    // From inside a larger buffer, as lmdb hands values.
    const bytes = encodeRun(run);
    const larger = Buffer.alloc(bytes.length + 50, 0xee);
    bytes.copy(larger);
    expect(decodeRun(larger, bytes.length)).toStrictEqual(run);
  });

  it('reads runs stored as msgpack (version 2 stores), and writes a run that does not fit the layout as msgpack', () => {
    const old = new Packr({ copyBuffers: true }).pack(run);
    expect(isCompact(old)).toBe(false);
    expect(decodeRun(old)).toStrictEqual(run);
    const odd = { ...run, exitCode: undefined } as unknown as Run;
    const bytes = encodeRun(odd);
    expect(isCompact(bytes)).toBe(false);
    expect(decodeRun(bytes)).toStrictEqual(new Packr().unpack(new Packr().pack(odd)));
  });

  it('slots: tagged with their clock offset (schema 6) round-trip; untagged ones are the msgpack they always were', () => {
    const slot: Slot = { jobId: 'job_1', at: '2030-01-01T00:10:00.000Z', outcome: 'missed', runId: null, reason: 'down', recordedAt: '2030-01-01T00:11:00.000Z',
      firstAt: '2030-01-01T00:01:00.000Z', count: 10 };
    const tagged = encodeSlot(new TaggedSlot(slot, -180_000));
    expect(slotTag(tagged)).toBe(-180_000);
    expect(decodeSlot(tagged)).toStrictEqual(slot); // the tag is not part of the slot readers get
    const plain = encodeSlot(slot);
    expect(plain).toEqual(Buffer.from(new Packr({ copyBuffers: true }).pack(slot)));
    expect(slotTag(plain)).toBeUndefined();
    expect(decodeSlot(plain)).toStrictEqual(slot);
    // From inside a larger buffer, as lmdb hands them.
    const big = Buffer.concat([tagged, Buffer.from([1, 2, 3])]);
    expect(decodeSlot(big, tagged.length)).toStrictEqual(slot);
  });
});

const run: Run = {
  id: 'run_01JX8YQ0000000000000000001', jobId: 'job_01JX8YQ0000000000000000000', attempt: 3, trigger: 'retry', status: 'failed',
  exitCode: 2, signal: 'SIGTERM', scheduledAt: '2030-01-01T00:00:00.000Z', startedAt: '2030-01-01T00:00:00.005Z',
  finishedAt: '2030-01-01T00:00:01.250Z', durationMs: 1245, peakMemoryBytes: 52_428_800, error: 'exited 2 — «ошибка»', output: 'hello\nwörld\n',
};
