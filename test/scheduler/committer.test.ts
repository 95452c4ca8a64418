/**
 * The pipelined group commit (src/actors/scheduler/committer.ts): two batches in flight, callbacks
 * always in seal order, a failed batch retried (with what arrived since) once every batch in flight
 * has answered, and a schedule state that a later durable batch moved is not written back. The
 * store side is a scripted port (each commit answered by the test, in any order), so every
 * interleaving is deterministic; the real store and threads are in batches.int.test.ts.
 */
import { Committer, MAX_BATCH_RECORDS, MAX_IN_FLIGHT } from '../../src/actors/scheduler/committer';
import type { Batch, BatchResult } from '../../src/actors/persistence/port';
import type { ScheduleState } from '../../src/actors/persistence/schema';
import { VirtualClock } from '../../src/runtime/clock';
import type { Run } from '../../src/model/run';
import { fromWire, type WireBatch } from '../../src/actors/persistence/run-tuples';

const OK: BatchResult = { deduped: [], dropped: [] };
const silent = { debug() {}, info() {}, warn() {}, error() {} };

function rig() {
  const clock = new VirtualClock(0);
  const sent: Array<{ batch: Batch; answer(ok: boolean): void }> = [];
  const ref: { c: Committer | null } = { c: null };
  const persistence = {
    // The batch as the persistence actor reads it (its runs cross as tuples: run-tuples.ts).
    ask: (_type: string, p: { batch: WireBatch }) => new Promise<BatchResult>((resolve, reject) => {
      sent.push({ batch: fromWire(p.batch), answer: (ok) => (ok ? resolve(OK) : reject(new Error('injected'))) });
    }),
  };
  const c = new Committer({
    clock, logger: silent, persistence: persistence as never,
    // The engine hands outcomes back through its mailbox; here synchronously (after the promise).
    deliver: (id, outcome) => { ref.c!.settled(id, outcome); ref.c!.flush(); },
    retry: () => ref.c!.retryNow(),
    onFault: () => undefined,
  });
  ref.c = c;
  const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve(); };
  return { c, clock, sent, settle };
}

const run = (id: string): Run => ({ id, jobId: 'j', status: 'queued' } as Run);
const state = (jobId: string, nextRunAt: string): ScheduleState => ({ jobId, lastSlotAt: null, nextRunAt, anchorAt: null } as ScheduleState);

describe('Committer (pipelined group commit)', () => {
  it(`keeps ${MAX_IN_FLIGHT} batches in flight and runs callbacks in seal order even when the later one answers first`, async () => {
    const { c, sent, settle } = rig();
    const order: string[] = [];
    c.add({ runs: [run('a')] }, () => order.push('a'));
    c.flush();
    c.add({ runs: [run('b')] }, () => order.push('b'));
    c.flush();
    c.add({ runs: [run('c')] }, () => order.push('c'));
    c.flush();
    expect(sent.length).toBe(MAX_IN_FLIGHT);
    sent[1]!.answer(true);
    await settle();
    expect(order).toEqual([]);
    sent[0]!.answer(true);
    await settle();
    expect(order).toEqual(['a', 'b']);
    // The third batch went out once there was room.
    expect(sent.length).toBe(3);
    sent[2]!.answer(true);
    await settle();
    expect(order).toEqual(['a', 'b', 'c']);
    expect(c.busy).toBe(false);
  });

  it('a failed batch is retried after the backoff with what arrived since; later callbacks wait for it; a state a later batch moved is not written back', async () => {
    const { c, clock, sent, settle } = rig();
    const order: string[] = [];
    c.add({ runs: [run('a')], states: [state('x', 'old'), state('y', 'y1')] }, () => order.push('a'));
    c.flush();
    c.add({ runs: [run('b')], states: [state('x', 'new')] }, () => order.push('b'));
    c.flush();
    sent[0]!.answer(false);
    sent[1]!.answer(true);
    await settle();
    expect(order).toEqual([]);
    c.add({ runs: [run('c')] }, () => order.push('c'));
    c.flush();
    // Nothing is sent while the failure waits out its backoff.
    expect(sent.length).toBe(2);
    await clock.advance(10_000);
    await settle();
    expect(sent.length).toBe(3);
    const retry = sent[2]!.batch;
    expect(retry.runs.map((r) => r.id).sort()).toEqual(['a', 'c']);
    // x's state was moved by the durable second batch: the retry must not take it back; y's goes again.
    expect(retry.states.map((s) => `${s.jobId}=${s.nextRunAt}`)).toEqual(['y=y1']);
    sent[2]!.answer(true);
    await settle();
    expect(order).toEqual(['a', 'b', 'c']);
    expect(c.stats).toMatchObject({ commits: 2, failures: 1 });
    expect(c.busy).toBe(false);
  });

  it('idle() waits for every batch in flight', async () => {
    const { c, sent, settle } = rig();
    c.add({ runs: [run('a')] });
    c.flush();
    c.add({ runs: [run('b')] });
    c.flush();
    let idle = false;
    void c.idle().then(() => { idle = true; });
    sent[0]!.answer(true);
    await settle();
    expect(idle).toBe(false);
    sent[1]!.answer(true);
    await settle();
    expect(idle).toBe(true);
  });

  it('durable() settles once what was added before it is durable, while later records keep commits in flight (idle() would wait for ever)', async () => {
    const { c, sent, settle } = rig();
    c.add({ runs: [run('a')] });
    c.flush();
    let durable = false;
    let idle = false;
    void c.durable().then(() => { durable = true; });
    void c.idle().then(() => { idle = true; });
    c.flush();
    // A steady stream: every answer finds a new batch to send (jobs firing every second).
    for (let i = 0; i < 4; i++) {
      c.add({ runs: [run(`n${i}`)] });
      c.flush();
      sent[i]!.answer(true);
      await settle();
      // Its callback rides in the batch sealed right after it (with n0): durable once that one is.
      expect(durable).toBe(i >= 1);
    }
    expect(idle).toBe(false);
    expect(c.busy).toBe(true);
  });

  it('durable() waits for a batch in flight, and resolves at once when nothing is', async () => {
    const { c, sent, settle } = rig();
    let first = false;
    await c.durable();
    c.add({ runs: [run('a')] });
    c.flush();
    c.add({ runs: [run('b')] });
    void c.durable().then(() => { first = true; });
    c.flush();
    sent[0]!.answer(true);
    await settle();
    // 'b' was added before durable(): it rides in the second batch.
    expect(first).toBe(false);
    sent[1]!.answer(true);
    await settle();
    expect(first).toBe(true);
  });

  it(`seals batches at ${MAX_BATCH_RECORDS} records: a backlog goes as bounded commits, in order, each callback with its records`, async () => {
    const { c, sent, settle } = rig();
    const order: number[] = [];
    // A backlog (e.g. a spell's missed ranges) added one record at a time, then the second's fires.
    const n = MAX_BATCH_RECORDS * 3 + 5;
    for (let i = 0; i < n; i++) c.add({ runs: [run(`r${i}`)] }, () => order.push(i));
    c.flush();
    expect(sent.length).toBe(MAX_IN_FLIGHT);
    for (const x of sent) expect(x.batch.runs.length).toBe(MAX_BATCH_RECORDS);
    // The first commit's callbacks run as soon as it is durable, before the rest is written.
    sent[0]!.answer(true);
    await settle();
    expect(order.length).toBe(MAX_BATCH_RECORDS);
    expect(sent.length).toBe(3);
    sent[1]!.answer(true);
    await settle();
    expect(sent.length).toBe(4);
    expect(sent[3]!.batch.runs.length).toBe(5);
    sent[2]!.answer(true);
    sent[3]!.answer(true);
    await settle();
    expect(order).toEqual([...Array(n).keys()]);
    expect(new Set(sent.flatMap((x) => x.batch.runs.map((r) => r.id))).size).toBe(n);
  });

  it('a failed batch is retried with the sealed batches behind it, nothing lost, order kept', async () => {
    const { c, clock, sent, settle } = rig();
    const order: number[] = [];
    const n = MAX_BATCH_RECORDS * 3;
    for (let i = 0; i < n; i++) c.add({ runs: [run(`r${i}`)] }, () => order.push(i));
    c.flush();
    sent[0]!.answer(false);
    sent[1]!.answer(true);
    await settle();
    expect(order).toEqual([]);
    await clock.advance(10_000);
    await settle();
    const retry = sent[sent.length - 1]!;
    expect(retry.batch.runs.length).toBe(n - MAX_BATCH_RECORDS);
    retry.answer(true);
    await settle();
    expect(order).toEqual([...Array(n).keys()]);
  });
});
