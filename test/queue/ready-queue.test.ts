import fc from 'fast-check';
import { ReadyQueue, type ReadyItem } from '../../src/actors/queue/ready-queue';
import { QueueFullError } from '../../src/errors';

let n = 0;
const item = (over: Partial<ReadyItem> = {}): ReadyItem => ({
  runId: `r${n++}`, jobId: 'job', priority: 0, dueAt: 1000, ...over,
});

describe('ReadyQueue', () => {
  it('pops by priority (higher first), then dueAt, then FIFO', () => {
    const q = new ReadyQueue({ maxSize: 100 });
    q.push(item({ runId: 'low-early', priority: 0, dueAt: 1 }));
    q.push(item({ runId: 'high-late', priority: 5, dueAt: 9 }));
    q.push(item({ runId: 'high-early', priority: 5, dueAt: 2 }));
    q.push(item({ runId: 'fifo-1', priority: 1, dueAt: 5 }));
    q.push(item({ runId: 'fifo-2', priority: 1, dueAt: 5 }));
    q.push(item({ runId: 'neg', priority: -3, dueAt: 0 }));
    expect(q.peek()?.runId).toBe('high-early');
    expect(q.items().map((i) => i.runId)).toEqual(['high-early', 'high-late', 'fifo-1', 'fifo-2', 'low-early', 'neg']);
    const popped: string[] = [];
    for (let i = q.pop(); i !== undefined; i = q.pop()) popped.push(i.runId);
    expect(popped).toEqual(['high-early', 'high-late', 'fifo-1', 'fifo-2', 'low-early', 'neg']);
    expect(q.size).toBe(0);
  });

  it('matches a stable sort under random pushes, pops and removals', () => {
    const cmd = fc.oneof(
      fc.record({ k: fc.constant('push' as const), priority: fc.integer({ min: -2, max: 2 }), dueAt: fc.integer({ min: 0, max: 3 }), job: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ k: fc.constant('pop' as const) }),
      fc.record({ k: fc.constant('remove' as const), pick: fc.nat() }),
      fc.record({ k: fc.constant('removeJob' as const), job: fc.integer({ min: 0, max: 3 }) }),
    );
    fc.assert(fc.property(fc.array(cmd, { maxLength: 120 }), (cmds) => {
      const q = new ReadyQueue({ maxSize: 1000 });
      let model: ReadyItem[] = []; // in push order; the expected pop order is a stable sort of it
      const sorted = (): ReadyItem[] => [...model].sort((a, b) => b.priority - a.priority || a.dueAt - b.dueAt);
      let id = 0;
      for (const c of cmds) {
        if (c.k === 'push') {
          const it = { runId: `r${id++}`, jobId: `j${c.job}`, priority: c.priority, dueAt: c.dueAt };
          q.push(it);
          model.push(it);
        } else if (c.k === 'pop') {
          const exp = sorted()[0];
          expect(q.pop()).toEqual(exp);
          model = model.filter((m) => m !== exp);
        } else if (c.k === 'remove' && model.length > 0) {
          const victim = model[c.pick % model.length]!;
          expect(q.remove(victim.runId)).toEqual(victim);
          model = model.filter((m) => m !== victim);
        } else if (c.k === 'removeJob') {
          const exp = sorted().filter((m) => m.jobId === `j${c.job}`);
          expect(q.removeJob(`j${c.job}`)).toEqual(exp);
          model = model.filter((m) => m.jobId !== `j${c.job}`);
        }
        expect(q.size).toBe(model.length);
        for (let j = 0; j < 4; j++) expect(q.countForJob(`j${j}`)).toBe(model.filter((m) => m.jobId === `j${j}`).length);
      }
      expect(q.items()).toEqual(sorted());
    }), { numRuns: 200 });
  });

  it('refuses past maxSize with QueueFullError, and takes runs again once drained', () => {
    const q = new ReadyQueue({ maxSize: 2 });
    q.push(item());
    q.push(item());
    let err: unknown;
    try {
      q.push(item());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QueueFullError);
    expect(err).toMatchObject({ code: 'QUEUE_FULL' });
    expect(q.size).toBe(2);
    q.pop();
    q.push(item());
    expect(q.size).toBe(2);
  });

  it('validates options and items, naming the field', () => {
    expect(() => new ReadyQueue({ maxSize: 0 })).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'maxQueuedJobs' }));
    expect(() => new ReadyQueue({ maxSize: 1.5 })).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
    const q = new ReadyQueue({ maxSize: 5 });
    expect(() => q.push(item({ priority: NaN }))).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'priority' }));
    expect(() => q.push(item({ dueAt: Infinity }))).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'dueAt' }));
    expect(() => q.push(item({ runId: '' }))).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'runId' }));
    q.push(item({ runId: 'same' }));
    expect(() => q.push(item({ runId: 'same' }))).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(q.size).toBe(1);
    expect(q.remove('nope')).toBeUndefined();
  });

  it('hands out copies: mutating a popped or peeked item does not corrupt the queue', () => {
    const q = new ReadyQueue({ maxSize: 5 });
    const original = item({ runId: 'x', priority: 1 });
    q.push(original);
    original.priority = -100;
    q.peek()!.priority = -100;
    q.push(item({ runId: 'y', priority: 0 }));
    expect(q.pop()?.runId).toBe('x');
  });
});
