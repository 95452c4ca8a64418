/** Start-up pages: a job's head always, its whole spec only where start-up needs more. */
import { Store } from '../../src/actors/persistence/store';
import { makeJob, removeDir, tempDir } from './helpers/fixtures';

describe('jobPage', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = tempDir();
    store = await Store.open({ dataDir: dir });
  });
  afterEach(async () => {
    await store.close();
    removeDir(dir);
  });

  it('includes the spec only for active jobs whose next slot is unknown or past, or that watch', async () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    const ahead = makeJob(1);
    const unknown = makeJob(2);
    const paused = makeJob(3, { enabled: false });
    const watching = makeJob(4, { triggers: [{ type: 'watch', paths: ['/tmp'] }] });
    const past = makeJob(5);
    for (const j of [ahead, unknown, paused, watching, past]) await store.insertJob(j);
    const state = (jobId: string, next: string) => ({ jobId, lastSlotAt: null, nextRunAt: next, anchorAt: null });
    await store.putScheduleStates([
      state(ahead.id, '2030-01-01T00:05:00.000Z'), state(watching.id, '2030-01-01T00:05:00.000Z'),
      state(past.id, '2029-12-31T23:55:00.000Z'),
    ]);
    const page = store.jobPage(null, 10, now);
    const byId = new Map(page.map((e) => [e.head.id, e]));
    expect(page.map((e) => e.head.id).sort()).toEqual([ahead, unknown, paused, watching, past].map((j) => j.id).sort());
    expect(byId.get(ahead.id)!.job).toBeNull();
    expect(byId.get(ahead.id)!.head).toMatchObject({ name: ahead.name, enabled: true, done: false, events: false });
    expect(byId.get(unknown.id)!.job?.id).toBe(unknown.id);
    expect(byId.get(paused.id)!.job).toBeNull();
    expect(byId.get(watching.id)!.job?.id).toBe(watching.id);
    expect(byId.get(past.id)!.job?.id).toBe(past.id);
    // Paging: after the first two ids, the rest.
    const first = store.jobPage(null, 2, now);
    const rest = store.jobPage(first[1]!.head.id, 10, now);
    expect([...first, ...rest].map((e) => e.head.id)).toEqual(page.map((e) => e.head.id));
  });

  it('keeps heads in step with renames and deletes', async () => {
    const job = makeJob(1);
    await store.insertJob(job);
    await store.updateJob({ ...job, name: 'renamed', enabled: false });
    expect(store.jobPage(null, 10, 0)[0]!.head).toMatchObject({ name: 'renamed', enabled: false });
    await store.deleteJob(job.id);
    expect(store.jobPage(null, 10, 0)).toEqual([]);
  });
});
