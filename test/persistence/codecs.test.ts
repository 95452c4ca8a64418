/** The compact encoding of job heads and schedule states (codecs.ts), and its reading of version 1 (msgpack) values. */
import { Packr } from 'msgpackr';
import { decodeHead, decodeState, encodeHead, encodeState, isCompact } from '../../src/actors/persistence/codecs';
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
  });
});
