import fc from 'fast-check';
import { JobIndex, type IndexedKind } from '../../src/actors/scheduler/job-index';

/** The obviously-correct model: Maps of id → facts and name → id. */
class MapModel {
  readonly jobs = new Map<string, { name: string; enabled: boolean; done: boolean; kind: IndexedKind }>();
  readonly names = new Map<string, string>();
  set(id: string, name: string, enabled: boolean, done: boolean, kind: IndexedKind): void {
    const old = this.jobs.get(id);
    if (old !== undefined && old.name !== name && this.names.get(old.name) === id) this.names.delete(old.name);
    this.jobs.set(id, { name, enabled, done, kind });
    this.names.set(name, id);
  }
  delete(id: string): void {
    const old = this.jobs.get(id);
    if (old === undefined) return;
    this.jobs.delete(id);
    if (this.names.get(old.name) === id) this.names.delete(old.name);
  }
  idOf(ref: string): string | undefined {
    return this.jobs.has(ref) ? ref : this.names.get(ref);
  }
}

// Ids from a small set, so sets hit existing rows, deleted rows come back, and ids arrive both in
// and out of order (the sorted column and the Map of late ids).
const id = fc.constantFrom(...Array.from({ length: 10 }, (_, i) => `job_${String(i).padStart(2, '0')}`));
const name = fc.constantFrom('a', 'b', 'c', 'd', 'e');
const kind = fc.constantFrom<IndexedKind>('none', 'cron', 'interval', 'timed');
const op = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), id, name, enabled: fc.boolean(), done: fc.boolean(), sk: kind }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), id }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const) }) },
);

describe('JobIndex', () => {
  it('matches a Map model under random adds, updates, renames, removals and clears', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const x = new JobIndex();
        const m = new MapModel();
        for (const o of ops) {
          if (o.kind === 'set') {
            x.set({ id: o.id, name: o.name, enabled: o.enabled, done: o.done, after: [] }, o.sk);
            m.set(o.id, o.name, o.enabled, o.done, o.sk);
          } else if (o.kind === 'delete') {
            const old = m.jobs.get(o.id);
            x.delete({ id: o.id, name: old?.name ?? 'none' });
            m.delete(o.id);
          } else {
            x.clear();
            m.jobs.clear();
            m.names.clear();
          }
          expect(x.size).toBe(m.jobs.size);
        }
        for (const ref of ['job_00', 'job_03', 'job_09', 'a', 'b', 'c', 'd', 'e', 'zz']) {
          expect(x.idOf(ref)).toBe(m.idOf(ref));
          const j = m.jobs.get(ref);
          expect(x.get(ref)).toEqual(j === undefined ? undefined : { enabled: j.enabled, done: j.done, kind: j.kind });
        }
        for (const n of ['a', 'b', 'c', 'd', 'e']) expect(x.hasName(n)).toBe(m.names.has(n));
        const active = [...m.jobs].filter(([, j]) => j.enabled && !j.done && j.kind !== 'none').map(([i]) => i).sort();
        expect([...x.active()].sort()).toEqual(active);
        const all = [...m.jobs.values()];
        expect(x.counts()).toEqual({
          total: all.length, done: all.filter((j) => j.done).length,
          enabled: all.filter((j) => !j.done && j.enabled).length, paused: all.filter((j) => !j.done && !j.enabled).length,
        });
      }),
      { numRuns: 300 },
    );
  });

  it('finds ids loaded in order (the sorted column) and ids added out of order (the late Map)', () => {
    const x = new JobIndex();
    for (let i = 0; i < 5000; i++) x.set({ id: `job_${String(i).padStart(6, '0')}`, name: `n${i}`, enabled: true, done: false, after: [] }, 'timed');
    x.set({ id: 'job_', name: 'early', enabled: false, done: false, after: [] }, 'cron');
    expect(x.size).toBe(5001);
    expect(x.idOf('job_004321')).toBe('job_004321');
    expect(x.idOf('n4321')).toBe('job_004321');
    expect(x.get('job_')).toEqual({ enabled: false, done: false, kind: 'cron' });
    expect(x.idOf('early')).toBe('job_');
    expect(x.counts()).toEqual({ total: 5001, enabled: 5000, paused: 1, done: 0 });
    // Names removed and added again many times over (tombstones, growth of the name table).
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4000; i++) x.delete({ id: `job_${String(i).padStart(6, '0')}`, name: `n${i}` });
      for (let i = 0; i < 4000; i++) x.set({ id: `job_${String(i).padStart(6, '0')}`, name: `m${round}-${i}`, enabled: true, done: false, after: [] }, 'timed');
    }
    expect(x.idOf('n17')).toBeUndefined();
    expect(x.idOf('m2-17')).toBe('job_000017');
    expect(x.hasName('m1-17')).toBe(false);
    expect(x.idOf('n4500')).toBe('job_004500');
    expect(x.size).toBe(5001);
  });

  it('lists dangling --after edges with the dependent\'s name', () => {
    const x = new JobIndex();
    x.set({ id: 'job_1', name: 'up', enabled: true, done: false, after: [] }, 'cron');
    x.set({ id: 'job_2', name: 'down', enabled: true, done: false, after: ['up', 'ghost'] }, 'none');
    expect(x.danglingAfter()).toEqual([{ name: 'down', upstream: 'ghost' }]);
    expect(x.dependentsOf({ id: 'job_1', name: 'up' })).toEqual(['job_2']);
    x.delete({ id: 'job_1', name: 'up' });
    expect(x.danglingAfter()).toEqual([{ name: 'down', upstream: 'up' }, { name: 'down', upstream: 'ghost' }]);
  });
});

describe('JobIndex.column', () => {
  it('behaves like a Map keyed by id, for indexed ids and ids not indexed yet, and is emptied with the index', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ kind: fc.constantFrom('index', 'set', 'delete', 'unindex'), id, v: fc.integer() }), { maxLength: 100 }), (ops) => {
        const x = new JobIndex();
        const col = x.column<number>();
        const m = new Map<string, number>();
        for (const o of ops) {
          if (o.kind === 'index') x.set({ id: o.id, name: o.id, enabled: true, done: false, after: [] }, 'cron');
          else if (o.kind === 'unindex') x.delete({ id: o.id, name: o.id });
          else if (o.kind === 'set') {
            col.set(o.id, o.v);
            m.set(o.id, o.v);
          } else expect(col.delete(o.id)).toBe(m.delete(o.id));
          for (const k of ['job_00', 'job_04', 'job_09']) {
            expect(col.get(k)).toBe(m.get(k));
            expect(col.has(k)).toBe(m.has(k));
          }
        }
        expect(new Map(col)).toEqual(m);
        x.clear();
        expect([...col]).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
