/**
 * The offline `list` table reads rows from job heads (src/actors/persistence/list-rows.ts): for
 * every kind of job it must show exactly what the whole jobs show — same columns, same table text,
 * same pages — whatever the job's history (none, a few runs, more than the key walk steps through,
 * runs in flight, slots newer than the stored state, a clock step). Real LMDB in a temp directory.
 */
import { Store } from '../../src/actors/persistence/store';
import { openTables } from '../../src/actors/persistence/tables';
import { newestKeysOf } from '../../src/actors/persistence/newest-keys';
import { unfinishedOnlyOf } from '../../src/actors/persistence/fire-layout';
import { decodeRun, decodeRunTimes, encodeRun } from '../../src/actors/persistence/codecs';
import { ReadView } from '../../src/reads/read-view';
import { VirtualClock } from '../../src/runtime/clock';
import { formatJobs } from '../../src/cli/format';
import type { Job, JobRow } from '../../src/model/job';
import type { Run } from '../../src/model/run';
import type { Batch } from '../../src/actors/persistence/port';
import { makeJob, makeRun, makeSlot, removeDir, tempDir } from '../persistence/helpers/fixtures';

const SILENT = { debug() {}, info() {}, warn() {}, error() {} };
/** After the fixtures' runs and slots (2026-03-01T01:00 + n minutes). */
const NOW = Date.parse('2026-03-01T03:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const batch = (p: Partial<Batch>): Batch => ({ fires: [], runs: [], states: [], ...p });
const queued = (r: Run): Run => ({ ...r, status: 'queued', exitCode: null, startedAt: null, finishedAt: null, durationMs: null, output: '' });

/** What the table shows of a whole job. */
const rowOf = (j: Job): JobRow => {
  const r: JobRow = { id: j.id, name: j.name, schedule: j.schedule, scheduleText: j.scheduleText ?? null, timezone: j.timezone, state: j.state, nextRunAt: j.nextRunAt, lastRun: null };
  if (j.lastRun !== null) {
    const { id, status, scheduledAt, startedAt, finishedAt } = j.lastRun;
    r.lastRun = { id, status, scheduledAt, startedAt, finishedAt };
  }
  return r;
};
/** A row as compared: the typed text only matters for one-time schedules (format.ts `scheduleText`). */
const comparable = (r: JobRow): JobRow => {
  const { scheduleText, ...rest } = r;
  return /^at /.test(r.schedule) ? { ...rest, scheduleText: scheduleText ?? null } : rest;
};

/** Jobs of every kind the table distinguishes, with their histories. */
async function fill(store: Store): Promise<void> {
  let n = 0;
  const add = async (over: Partial<Job>, state?: { last?: number; next?: number | null; anchor?: string | null; offsetMs?: number }): Promise<Job> => {
    const job = makeJob(++n, over);
    await store.insertJob(job, state === undefined ? undefined : {
      jobId: job.id, lastSlotAt: state.last === undefined ? null : iso(state.last),
      nextRunAt: state.next == null ? null : iso(state.next), anchorAt: state.anchor === undefined ? job.createdAt : state.anchor,
      ...(state.offsetMs === undefined ? {} : { offsetMs: state.offsetMs }),
    });
    return job;
  };
  await add({}, { next: NOW + 86_400_000 }); // next slot safely ahead
  await add({}, { next: NOW + 1000 }); // next slot within the lead: its newest slot is read
  await add({}, { next: null }); // next slot unknown: computed from the schedule
  await add({}, { next: NOW - 60_000, anchor: null }); // passed, no anchor: counts from createdAt
  await add({}); // no state at all
  await add({ enabled: false }, { next: NOW + 86_400_000 });
  await add({ schedule: 'never' }, { next: null });
  await add({ schedule: '@reboot', timezone: 'UTC' });
  await add({ schedule: '*/10 * * * *', timezone: 'Europe/Paris' }, { next: null });
  await add({ schedule: 'at 2026-03-02T08:00:00.000Z', scheduleText: 'tomorrow at 9am', timezone: 'Europe/Paris' }, { next: Date.parse('2026-03-02T08:00:00.000Z') });
  await add({ schedule: 'at 2026-02-01T08:00:00.000Z', scheduleText: 'at 2026-02-01T09:00', completedAt: iso(NOW - 86_400_000), timezone: 'Europe/Paris' });
  await add({ schedule: 'every 1 minute' }, { next: NOW + 600_000, offsetMs: 0 }); // tagged with a clock offset

  const jobs = store.listJobs();
  const runs: Run[] = [];
  const fires: Batch['fires'] = [];
  // Histories: none, one, a few, more than the walk steps through (newest-keys.ts), in flight only.
  for (const [i, job] of jobs.entries()) {
    const count = [0, 1, 3, 12, 0, 2, 9, 0, 1, 0, 1, 20][i]!;
    for (let k = 0; k < count; k++) runs.push(makeRun(job.id, i * 100 + k, { status: k % 3 === 0 ? 'failed' : 'succeeded' }));
    // Slots newer than the stored state (fires write no state), some tagged with an offset; some
    // (those numbered past 120) even after now and the stored next slot.
    if (i % 3 === 1 || i === 11) {
      for (let k = 0; k < (i === 1 ? 10 : 2); k++) fires.push({ slot: makeSlot(job.id, i * 100 + k), run: null, ...(i === 11 ? { offsetMs: 0 } : {}) });
    }
  }
  await store.commitBatch(batch({ runs, fires }));
  // A run in flight (lives in `unfinished` only): the table shows the newest run of history.
  await store.commitBatch(batch({ fires: [{ slot: makeSlot(jobs[4]!.id, 9999, { outcome: 'fired' }), run: queued(makeRun(jobs[4]!.id, 9999)) }] }));
}

describe('list rows from job heads', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  it.each(['offline', 'active'] as const)('show what the whole jobs show (%s), as rows, pages and table text', async (mode) => {
    const store = await Store.open({ dataDir: dir });
    try {
      await fill(store);
      const clock = new VirtualClock(NOW);
      const view = new ReadView({ store, clock, mode, maxConcurrent: 4, logger: SILENT });
      const jobs = view.listJobs();
      const rows = view.listRows();
      expect(jobs).toHaveLength(12);
      expect(rows.map(comparable)).toEqual(jobs.map(rowOf).map(comparable));
      expect(formatJobs(rows, NOW)).toBe(formatJobs(jobs, NOW));
      // The same histories seen through a clock step handled since (every tagged instant moves).
      await store.commitBatch(batch({ clock: { seq: 1, offsetMs: -180_000 } }));
      expect(view.listRows().map(comparable)).toEqual(view.listJobs().map(rowOf).map(comparable));
      // Pages: the same cursors, the same jobs on each.
      let after: string | undefined;
      for (;;) {
        const a = view.listPage({ limit: 5, ...(after === undefined ? {} : { after }) });
        const b = view.listRowPage({ limit: 5, ...(after === undefined ? {} : { after }) });
        expect(b.next).toBe(a.next);
        expect(b.jobs.map(comparable)).toEqual(a.jobs.map(rowOf).map(comparable));
        if (a.next === null) break;
        after = a.next;
      }
    } finally {
      await store.close();
    }
  });

  it('the key walk finds each job newest key as one range per job does, whatever the history', async () => {
    const jobs = Array.from({ length: 40 }, (_, i) => makeJob(i + 1));
    const ids = jobs.map((j) => j.id);
    const store = await Store.open({ dataDir: dir });
    let newest: Map<string, string | undefined>;
    try {
      for (const j of jobs) await store.insertJob(j);
      // 0 to 30 runs per job (the walk steps through 8 at most), in no order of size.
      const runs = jobs.flatMap((j, i) => Array.from({ length: (i * 7) % 31 }, (_, k) => makeRun(j.id, i * 100 + k)));
      await store.commitBatch(batch({ runs }));
      newest = new Map(ids.map((id) => [id, store.listRuns(id, 1)[0]?.id]));
    } finally {
      await store.close();
    }
    const t = openTables(dir, true);
    try {
      const all = newestKeysOf(t.runs, ids);
      for (const id of ids) expect(all.get(id)).toBe(newest.get(id));
      // A subset (the jobs walked past are not asked for), and none.
      const some = ids.filter((_, i) => i % 3 === 0);
      const part = newestKeysOf(t.runs, some);
      for (const id of some) expect(part.get(id)).toBe(newest.get(id));
      expect(newestKeysOf(t.runs, []).size).toBe(0);
    } finally {
      await t.env.close();
    }
  });

  it("a job's runs in flight are found by their stored job id; older values are decoded", async () => {
    const [a, b] = [makeJob(1), makeJob(2)];
    const fires = [1, 2, 3].flatMap((n) => [a, b].map((j) => {
      const run = queued(makeRun(j.id, n * 10 + (j === a ? 0 : 1)));
      return { slot: makeSlot(j.id, n * 10 + (j === a ? 0 : 1), { runId: run.id, at: run.scheduledAt }), run };
    }));
    const store = await Store.open({ dataDir: dir });
    try {
      await store.insertJob(a);
      await store.insertJob(b);
      await store.commitBatch(batch({ fires }));
    } finally {
      await store.close();
    }
    const t = openTables(dir, false);
    try {
      // A version 3 entry (a job id: the run itself is in `runs`) beside the compact ones: not
      // "only in flight", so not returned, and no other job's run is either.
      const old = makeRun(a.id, 5, { status: 'running', finishedAt: null });
      await t.env.transaction(() => {
        void t.runs.put([a.id, old.id], old);
        void t.unfinished.put(old.id, a.id);
      });
      const mine = (j: Job): string[] => fires.filter((f) => f.run.jobId === j.id).map((f) => f.run.id).sort().reverse();
      expect(unfinishedOnlyOf(t, a.id).map((r) => r.id)).toEqual(mine(a));
      expect(unfinishedOnlyOf(t, b.id).map((r) => r.id)).toEqual(mine(b));
      expect(unfinishedOnlyOf(t, 'job_none')).toEqual([]);
    } finally {
      await t.env.close();
    }
  });

  it("a run's status and times read from its bytes are the decoded run's", () => {
    const full = makeRun('job_x', 1, { output: 'é'.repeat(40_000), error: 'boom', signal: 'SIGKILL', startedAt: null });
    const pick = (r: Run) => ({ id: r.id, status: r.status, scheduledAt: r.scheduledAt, startedAt: r.startedAt, finishedAt: r.finishedAt });
    expect(decodeRunTimes(encodeRun(full))).toEqual(pick(decodeRun(encodeRun(full))));
    // A run that does not fit the compact layout is stored as msgpack: read as such.
    const odd = { ...full, attempt: '1' } as unknown as Run;
    expect(decodeRunTimes(encodeRun(odd))).toEqual(pick(full));
  });
});
