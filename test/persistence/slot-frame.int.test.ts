/**
 * Slots in the clock frame (schema 6, src/actors/persistence/clock-frame.ts): an interval job's slot
 * is stored tagged with the clock offset it was recorded at, and the watermark derived from it reads
 * moved by the steps since — so a step is one record for fired jobs too. Real LMDB in temp dirs; a
 * version 5 store (untagged slots, written after a step) reads as it did and keeps reading right once
 * opened for writing.
 */
import { Store } from '../../src/actors/persistence/store';
import { openTables, SCHEMA_KEY, SCHEMA_VERSION } from '../../src/actors/persistence/tables';
import { CLOCK_OFFSET_KEY, CLOCK_SEQ_KEY, CLOCK_SLOT_BASE_KEY } from '../../src/actors/persistence/clock-frame';
import type { Batch } from '../../src/actors/persistence/port';
import { makeJob, makeRun, makeSlot, removeDir, tempDir } from './helpers/fixtures';

const STEP = 180_000;
const batch = (p: Partial<Batch>): Batch => ({ fires: [], runs: [], states: [], ...p });
const plus = (at: string, ms: number): string => new Date(Date.parse(at) + ms).toISOString();

describe('slots in the clock frame (schema 6)', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  it('a tagged slot moves with each step; the slot itself reads as written; a revision keeps the tag', async () => {
    const store = await Store.open({ dataDir: dir });
    try {
      const job = makeJob(1);
      const slot = makeSlot(job.id, 1);
      // Recorded after a first step of +1 min (tag and base differ, so a lost tag would show).
      await store.commitBatch(batch({ clock: { seq: 1, offsetMs: 60_000 } }));
      await store.insertJob(job, { jobId: job.id, lastSlotAt: null, nextRunAt: slot.at, anchorAt: job.createdAt, offsetMs: 60_000 });
      await store.commitBatch(batch({ fires: [{ slot, run: null, offsetMs: 60_000 }] }));
      expect(store.getScheduleState(job.id)?.lastSlotAt).toBe(slot.at);
      await store.commitBatch(batch({ clock: { seq: 2, offsetMs: 60_000 + STEP } }));
      expect(store.getScheduleState(job.id)?.lastSlotAt).toBe(plus(slot.at, STEP));
      expect(store.getSlot(job.id, slot.at)).toEqual(slot); // no tag in what readers get
      // Revised (a fire committed ahead, withdrawn): same time, same frame.
      await store.commitBatch(batch({ revised: [{ ...slot, outcome: 'skipped', reason: 'withdrawn' }] }));
      expect(store.getSlot(job.id, slot.at)?.outcome).toBe('skipped');
      await store.commitBatch(batch({ clock: { seq: 3, offsetMs: STEP } }));
      expect(store.getScheduleState(job.id)?.lastSlotAt).toBe(plus(slot.at, STEP - 60_000));
      // The start-up page reads the same watermark.
      const page = store.jobPage(null, 10, Date.parse(slot.at) + STEP);
      expect(new Date(page.last[0]!).toISOString()).toBe(plus(slot.at, STEP - 60_000));
    } finally {
      await store.close();
    }
  });

  it('a version 5 store (untagged slots, after a step) reads as before; opened for writing it is migrated (to the current version) and reads right after more steps', async () => {
    const iv = makeJob(2);
    const cron = makeJob(3, { schedule: '0 * * * *', timezone: 'UTC' });
    const ivSlot = makeSlot(iv.id, 1);
    const cronSlot = makeSlot(cron.id, 1);
    {
      const store = await Store.open({ dataDir: dir });
      // As version 5 left them: the interval state tagged at offset +1 min (one step handled), the
      // slot fired since, untagged; a calendar job's untagged state and slot.
      await store.insertJob(iv, { jobId: iv.id, lastSlotAt: null, nextRunAt: ivSlot.at, anchorAt: iv.createdAt, offsetMs: 60_000 });
      await store.insertJob(cron, { jobId: cron.id, lastSlotAt: null, nextRunAt: cronSlot.at, anchorAt: null });
      await store.putSlot(ivSlot);
      await store.putSlot(cronSlot);
      await store.close();
      const t = openTables(dir, false);
      await t.env.childTransaction(() => {
        void t.meta.put(SCHEMA_KEY, 5);
        void t.meta.put(CLOCK_SEQ_KEY, 1);
        void t.meta.put(CLOCK_OFFSET_KEY, 60_000);
      });
      await t.env.flushed;
      await t.env.close();
    }
    const ro = await Store.open({ dataDir: dir, readOnly: true });
    try {
      expect(ro.schemaVersion).toBe(5);
      expect(ro.getScheduleState(iv.id)?.lastSlotAt).toBe(ivSlot.at);
      expect(ro.getSlot(iv.id, ivSlot.at)).toEqual(ivSlot);
    } finally {
      await ro.close();
    }
    const store = await Store.open({ dataDir: dir });
    try {
      expect(store.schemaVersion).toBe(SCHEMA_VERSION);
      expect(store.getScheduleState(iv.id)?.lastSlotAt).toBe(ivSlot.at);
      // A step back: the untagged interval slot (written at +1 min) moves; the calendar one does not.
      await store.commitBatch(batch({ clock: { seq: 2, offsetMs: 60_000 - STEP } }));
      expect(store.getScheduleState(iv.id)?.lastSlotAt).toBe(plus(ivSlot.at, -STEP));
      expect(store.getScheduleState(cron.id)?.lastSlotAt).toBe(cronSlot.at);
    } finally {
      await store.close();
    }
    const t = openTables(dir, true);
    try {
      expect(t.meta.get(CLOCK_SLOT_BASE_KEY)).toBe(60_000);
    } finally {
      await t.env.close();
    }
  });

  it('a fire at a key held by a slot of another clock frame is another slot (written); of the same frame, deduped', async () => {
    const store = await Store.open({ dataDir: dir });
    try {
      const iv = makeJob(4);
      const cron = makeJob(5, { schedule: '0 * * * *', timezone: 'UTC' });
      for (const job of [iv, cron]) await store.insertJob(job, { jobId: job.id, lastSlotAt: null, nextRunAt: null, anchorAt: job.createdAt, offsetMs: 0 });
      const queued = (jobId: string, n: number) => makeRun(jobId, n, { status: 'queued', startedAt: null, finishedAt: null, durationMs: null, exitCode: null });
      const fire = (jobId: string, n: number, offsetMs: number | undefined) => {
        const run = queued(jobId, n);
        return { slot: makeSlot(jobId, 1, { runId: run.id }), run, offsetMs };
      };
      // Frame 0: the interval slot at minute 1, and the calendar one.
      const first = fire(iv.id, 1, 0);
      expect(await store.commitBatch(batch({ fires: [first, fire(cron.id, 1, undefined)] }))).toEqual({ deduped: [], dropped: [] });
      // A backward step of exactly 2 min: the interval job's slot in the new frame lands on the same wall time.
      await store.commitBatch(batch({ clock: { seq: 1, offsetMs: -2 * 60_000 } }));
      const second = fire(iv.id, 2, -2 * 60_000);
      const cronAgain = fire(cron.id, 2, undefined);
      const r = await store.commitBatch(batch({ fires: [second, cronAgain] }));
      // The interval slot of the new frame is written; the calendar slot (wall time) is the same slot: deduped.
      expect(r.deduped).toEqual([{ jobId: cron.id, at: cronAgain.slot.at }]);
      expect(store.getSlot(iv.id, second.slot.at)?.runId).toBe(second.run.id);
      expect(store.getRun(second.run.id)?.status).toBe('queued');
      // Both runs of the interval job exist; the calendar job has one.
      expect(store.listRuns(iv.id).map((x) => x.id).sort()).toEqual([first.run.id, second.run.id].sort());
      expect(store.listRuns(cron.id)).toHaveLength(1);
      // Again in the same frame (another run for the slot just written): deduped, never twice.
      const third = fire(iv.id, 3, -2 * 60_000);
      expect((await store.commitBatch(batch({ fires: [third] }))).deduped).toEqual([{ jobId: iv.id, at: third.slot.at }]);
      // The batch's own earlier commit again (its reply lost): counted as written, not deduped.
      expect((await store.commitBatch(batch({ fires: [second] }))).deduped).toEqual([]);
      expect(store.getSlot(iv.id, second.slot.at)?.runId).toBe(second.run.id);
    } finally {
      await store.close();
    }
  });
});
