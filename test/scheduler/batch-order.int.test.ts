/**
 * Two batches in flight, the first one fails: the second must not become durable without it. The
 * store derives a job's watermark from its newest slot (schema 4), so a later fire of a job written
 * while an earlier one is not would, after a crash before the retry, leave the earlier slot with
 * no outcome at all (not fired, not missed: start-up resumes after the newer slot). The real
 * committer against the real persistence handlers and LMDB in a temp directory, asks answered one
 * at a time in the order sent (as the persistence actor's mailbox does).
 */
import { Committer } from '../../src/actors/scheduler/committer';
import { createPersistenceHandlers, type PersistenceHandlers } from '../../src/actors/persistence/actor';
import { Store } from '../../src/actors/persistence/store';
import { VirtualClock } from '../../src/runtime/clock';
import type { Run } from '../../src/model/run';
import { makeJob, makeRun, makeSlot, removeDir, tempDir } from '../persistence/helpers/fixtures';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const queued = (r: Run): Run => ({ ...r, status: 'queued', exitCode: null, startedAt: null, finishedAt: null, durationMs: null, output: '' });
const fireOf = (jobId: string, n: number) => {
  const run = queued(makeRun(jobId, n));
  return { slot: makeSlot(jobId, n, { runId: run.id, at: run.scheduledAt }), run };
};

/** The committer over the real handlers; `answered` counts the commits that came back. */
function rig(h: PersistenceHandlers) {
  const clock = new VirtualClock(0);
  let mailbox: Promise<unknown> = Promise.resolve();
  const stats = { answered: 0 };
  const persistence = {
    // One message at a time, in the order sent.
    ask: (type: 'commitBatch', p: Parameters<PersistenceHandlers['commitBatch']>[0]) => {
      const done = mailbox.then(() => h[type](p));
      mailbox = done.catch(() => undefined);
      return done.finally(() => stats.answered++);
    },
  };
  const ref: { c: Committer | null } = { c: null };
  const c = new Committer({
    clock, logger: silent, persistence: persistence as never,
    deliver: (id, outcome) => { ref.c!.settled(id, outcome); ref.c!.flush(); },
    retry: () => ref.c!.retryNow(),
    onFault: () => undefined,
  });
  ref.c = c;
  return { c, clock, stats };
}

/** Waits for `what` (real LMDB commits: each waits for its fsync), with a generous bound. */
async function until(what: () => boolean): Promise<void> {
  const end = Date.now() + 30_000;
  while (!what() && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
  expect(what()).toBe(true);
}

describe('batches in flight when the first one fails', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  async function twoInFlight(fail = true) {
    const h = await createPersistenceHandlers({ dataDir: dir });
    const job = makeJob(1);
    await h.insertJob({ job });
    if (fail) h.injectFault({ mode: 'fail', when: 'fires', times: 1 });
    const r = rig(h);
    const [f1, f2] = [fireOf(job.id, 1), fireOf(job.id, 2)];
    const done: string[] = [];
    r.c.add({ fires: [f1] }, () => done.push('1'));
    r.c.flush();
    r.c.add({ fires: [f2] }, () => done.push('2'));
    r.c.flush();
    await until(() => r.stats.answered === 2);
    return { h, job, f1, f2, done, ...r };
  }

  it('a crash before the retry leaves neither (the later fire is not durable without the earlier one)', async () => {
    const { h, job, c, done } = await twoInFlight();
    expect(done).toEqual([]);
    // The process dies here: no retry.
    c.abandon();
    await h.close({});
    const store = await Store.open({ dataDir: dir, readOnly: true });
    try {
      expect(store.listSlots(job.id)).toEqual([]);
      expect(store.listUnfinishedRuns()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('the retry after the backoff writes both, in order, and their callbacks run in order', async () => {
    const { h, job, c, clock, f1, f2, done } = await twoInFlight();
    await clock.advance(10_000);
    await until(() => done.length === 2);
    expect(done).toEqual(['1', '2']);
    expect(c.busy).toBe(false);
    expect(h.listSlots({ jobId: job.id }).map((s) => s.at)).toEqual([f2.slot.at, f1.slot.at]);
    await h.close({});
  });

  it('neither fails: the second, sent behind the first, is taken (the first is durable by then)', async () => {
    const { h, job, c, f1, f2, done } = await twoInFlight(false);
    await until(() => done.length === 2);
    expect(c.stats.failures).toBe(0);
    expect(h.listSlots({ jobId: job.id }).map((s) => s.at)).toEqual([f2.slot.at, f1.slot.at]);
    await h.close({});
  });
});
