import fc from 'fast-check';
import { Timeline } from '../../src/actors/queue/timeline';

/** The obviously-correct model: a list kept sorted by (at, seq). */
class SortedModel {
  #list: Array<{ jobId: string; at: number; seq: number }> = [];
  #seq = 0;
  upsert(jobId: string, at: number): void {
    const old = this.#list.find((e) => e.jobId === jobId);
    if (old !== undefined && old.at === at) return;
    this.remove(jobId);
    this.#list.push({ jobId, at, seq: this.#seq++ });
    this.#list.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }
  remove(jobId: string): boolean {
    const i = this.#list.findIndex((e) => e.jobId === jobId);
    if (i < 0) return false;
    this.#list.splice(i, 1);
    return true;
  }
  get(jobId: string): number | undefined {
    return this.#list.find((e) => e.jobId === jobId)?.at;
  }
  popDue(now: number, max = Infinity): Array<{ jobId: string; at: number }> {
    const out: Array<{ jobId: string; at: number }> = [];
    while (this.#list.length > 0 && out.length < max && this.#list[0]!.at <= now) {
      const e = this.#list.shift()!;
      out.push({ jobId: e.jobId, at: e.at });
    }
    return out;
  }
  get size(): number {
    return this.#list.length;
  }
  peek(): { jobId: string; at: number } | undefined {
    const e = this.#list[0];
    return e === undefined ? undefined : { jobId: e.jobId, at: e.at };
  }
  sorted(): Array<{ jobId: string; at: number }> {
    return this.#list.map((e) => ({ jobId: e.jobId, at: e.at }));
  }
}

// Few ids and few distinct times, so upserts hit existing entries and equal times are common
// (the FIFO tie-break is where heaps usually go wrong).
const jobId = fc.constantFrom(...Array.from({ length: 12 }, (_, i) => `job-${i}`));
const at = fc.integer({ min: 0, max: 20 });
const op = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('upsert' as const), jobId, at }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), jobId }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('popDue' as const), now: at, max: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const) }) },
);

describe('Timeline', () => {
  it('matches a sorted-array model under random operations', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const t = new Timeline();
        const m = new SortedModel();
        for (const o of ops) {
          switch (o.kind) {
            case 'upsert':
              t.upsert(o.jobId, o.at);
              m.upsert(o.jobId, o.at);
              break;
            case 'remove':
              expect(t.remove(o.jobId)).toBe(m.remove(o.jobId));
              break;
            case 'popDue':
              expect(t.popDue(o.now, o.max)).toEqual(m.popDue(o.now, o.max));
              break;
            case 'clear':
              t.clear();
              while (m.size > 0) m.popDue(Infinity);
              break;
          }
          expect(t.size).toBe(m.size);
          expect(t.peek()).toEqual(m.peek());
          for (let i = 0; i < 12; i++) expect(t.get(`job-${i}`)).toBe(m.get(`job-${i}`));
        }
        // Draining pops everything in (at, insertion) order.
        expect(t.popDue(Infinity)).toEqual(m.sorted());
        expect(t.size).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('orders equal times by insertion, and a moved entry counts as inserted when moved', () => {
    const t = new Timeline();
    t.upsert('a', 10);
    t.upsert('b', 10);
    t.upsert('c', 10);
    t.upsert('a', 5);
    t.upsert('a', 10); // moved back: now after b and c
    t.upsert('b', 10); // unchanged: keeps its place
    expect(t.popDue(10).map((e) => e.jobId)).toEqual(['b', 'c', 'a']);
  });

  it('popDue leaves future entries and honours max', () => {
    const t = new Timeline();
    for (let i = 0; i < 10; i++) t.upsert(`j${i}`, i * 10);
    expect(t.popDue(35, 2)).toEqual([{ jobId: 'j0', at: 0 }, { jobId: 'j1', at: 10 }]);
    expect(t.popDue(35)).toEqual([{ jobId: 'j2', at: 20 }, { jobId: 'j3', at: 30 }]);
    expect(t.peek()).toEqual({ jobId: 'j4', at: 40 });
    expect(t.size).toBe(6);
    expect([...t.entries()].map((e) => e.jobId).sort()).toEqual(['j4', 'j5', 'j6', 'j7', 'j8', 'j9']);
  });

  it('grows past its initial capacity and stays a heap', () => {
    const t = new Timeline();
    const n = 5000;
    // A fixed permutation (multiplicative step, coprime with n) so the test is deterministic.
    for (let i = 0; i < n; i++) t.upsert(`j${i}`, (i * 7919) % n);
    for (let i = 0; i < n; i += 2) expect(t.remove(`j${i}`)).toBe(true);
    const out = t.popDue(Infinity);
    expect(out).toHaveLength(n / 2);
    for (let i = 1; i < out.length; i++) expect(out[i]!.at).toBeGreaterThanOrEqual(out[i - 1]!.at);
  });

  it('rejects a bad fire time or job id with a ValidationError naming the field', () => {
    const t = new Timeline();
    expect(() => t.upsert('a', NaN)).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'at' }));
    expect(() => t.upsert('a', Infinity)).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'at' }));
    expect(() => t.upsert('', 1)).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'jobId' }));
    expect(t.size).toBe(0);
    expect(t.remove('missing')).toBe(false);
  });

  describe('upsertMany (bulk load)', () => {
    type Op = { kind: 'many'; entries: Array<{ jobId: string; at: number }> } | { kind: 'one'; jobId: string; at: number }
      | { kind: 'remove'; jobId: string } | { kind: 'pop'; now: number; max: number };
    // Few ids and few times: batches name the same job twice and hold many equal times, where the
    // order of insertion decides the pop order.
    const id = fc.integer({ min: 0, max: 60 }).map((i) => `j${i}`);
    const at = fc.integer({ min: 0, max: 20 });
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 3, arbitrary: fc.array(fc.record({ jobId: id, at }), { maxLength: 200 }).map((entries) => ({ kind: 'many' as const, entries })) },
      { weight: 2, arbitrary: fc.record({ jobId: id, at }).map((e) => ({ kind: 'one' as const, ...e })) },
      { weight: 1, arbitrary: id.map((jobId) => ({ kind: 'remove' as const, jobId })) },
      { weight: 1, arbitrary: fc.record({ now: at, max: fc.integer({ min: 1, max: 30 }) }).map((p) => ({ kind: 'pop' as const, ...p })) },
    );

    it('pops exactly what one upsert after another pops (property, against the incremental path)', () => {
      fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const bulk = new Timeline();
        const one = new Timeline();
        for (const o of ops) {
          if (o.kind === 'many') {
            bulk.upsertMany(o.entries);
            for (const e of o.entries) one.upsert(e.jobId, e.at);
          } else if (o.kind === 'one') {
            bulk.upsert(o.jobId, o.at);
            one.upsert(o.jobId, o.at);
          } else if (o.kind === 'remove') {
            expect(bulk.remove(o.jobId)).toBe(one.remove(o.jobId));
          } else {
            expect(bulk.popDue(o.now, o.max)).toEqual(one.popDue(o.now, o.max));
          }
          expect(bulk.size).toBe(one.size);
          expect(bulk.peek()).toEqual(one.peek());
        }
        expect(bulk.popDue(Infinity)).toEqual(one.popDue(Infinity));
      }), { numRuns: 300 });
    });

    it('heapifies a large batch into an empty or small timeline and keeps ties in batch order', () => {
      const t = new Timeline();
      t.upsert('old', 5);
      const n = 20_000;
      // Three distinct times only: almost every entry ties with thousands of others.
      t.upsertMany(Array.from({ length: n }, (_, i) => ({ jobId: `j${i}`, at: (i * 7919) % 3 })));
      expect(t.size).toBe(n + 1);
      const out = t.popDue(Infinity);
      expect(out[out.length - 1]).toEqual({ jobId: 'old', at: 5 });
      const expected = Array.from({ length: n }, (_, i) => ({ jobId: `j${i}`, at: (i * 7919) % 3 }))
        .sort((a, b) => a.at - b.at || Number(a.jobId.slice(1)) - Number(b.jobId.slice(1)));
      expect(out.slice(0, n)).toEqual(expected);
    });

    it('refuses a batch with a bad entry before changing anything', () => {
      const t = new Timeline();
      t.upsert('a', 1);
      expect(() => t.upsertMany([{ jobId: 'b', at: 2 }, { jobId: 'c', at: NaN }]))
        .toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'at' }));
      expect(t.size).toBe(1);
      expect(t.has('b')).toBe(false);
    });
  });
});
