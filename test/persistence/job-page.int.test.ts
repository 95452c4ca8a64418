/** Start-up pages: a job's head and parsed state always, its whole spec only where start-up needs more. */
import { Store, type StartupPage } from '../../src/actors/persistence/store';
import { PAGE_DONE, PAGE_ENABLED, PAGE_EVENTS, PAGE_STATE } from '../../src/actors/persistence/port';
import { makeJob, removeDir, tempDir } from './helpers/fixtures';

/** Row of a job in a page. */
const rowOf = (page: StartupPage, id: string): number => page.ids.indexOf(id);
const specOf = (page: StartupPage, id: string) => page.jobs.find(([i]) => page.ids[i] === id)?.[1] ?? null;

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
    const ahead = makeJob(1, { triggers: [{ type: 'after', job: 'upstream', on: 'succeeded' }] });
    const unknown = makeJob(2);
    const paused = makeJob(3, { enabled: false });
    const watching = makeJob(4, { triggers: [{ type: 'watch', paths: ['/tmp'] }] });
    const past = makeJob(5);
    for (const j of [ahead, unknown, paused, watching, past]) await store.insertJob(j);
    const state = (jobId: string, next: string) => ({ jobId, lastSlotAt: '2029-12-31T23:00:00.000Z', nextRunAt: next, anchorAt: null });
    await store.putScheduleStates([
      state(ahead.id, '2030-01-01T00:05:00.000Z'), state(watching.id, '2030-01-01T00:05:00.000Z'),
      state(past.id, '2029-12-31T23:55:00.000Z'),
    ]);
    const page = store.jobPage(null, 10, now);
    expect([...page.ids].sort()).toEqual([ahead, unknown, paused, watching, past].map((j) => j.id).sort());
    const a = rowOf(page, ahead.id);
    expect(specOf(page, ahead.id)).toBeNull();
    expect(page.names[a]).toBe(ahead.name);
    expect(page.flags[a]).toBe(PAGE_ENABLED | PAGE_STATE);
    // The instants arrive parsed; an absent one is NaN.
    expect(page.next[a]).toBe(Date.parse('2030-01-01T00:05:00.000Z'));
    expect(page.last[a]).toBe(Date.parse('2029-12-31T23:00:00.000Z'));
    expect(page.anchor[a]).toBeNaN();
    expect(page.schedules[page.schedule[a]!]).toEqual({ schedule: ahead.schedule, timezone: null });
    expect(page.after).toEqual([[a, ['upstream']]]);
    // Jobs of the same schedule share one entry of `schedules`.
    expect(page.schedules).toHaveLength(1);
    expect(page.flags[rowOf(page, unknown.id)]! & PAGE_STATE).toBe(0);
    expect(page.next[rowOf(page, unknown.id)]).toBeNaN();
    expect(specOf(page, unknown.id)?.id).toBe(unknown.id);
    expect(specOf(page, paused.id)).toBeNull();
    expect(page.flags[rowOf(page, paused.id)]! & PAGE_ENABLED).toBe(0);
    expect(specOf(page, watching.id)?.id).toBe(watching.id);
    expect(page.flags[rowOf(page, watching.id)]! & PAGE_EVENTS).toBe(PAGE_EVENTS);
    expect(specOf(page, past.id)?.id).toBe(past.id);
    // Paging: after the first two ids, the rest.
    const first = store.jobPage(null, 2, now);
    const rest = store.jobPage(first.ids[1]!, 10, now);
    expect([...first.ids, ...rest.ids]).toEqual(page.ids);
    expect(rest.flags).toHaveLength(rest.ids.length);
  });

  it('keeps heads in step with renames and deletes', async () => {
    const job = makeJob(1);
    await store.insertJob(job);
    await store.updateJob({ ...job, name: 'renamed', enabled: false });
    let page = store.jobPage(null, 10, 0);
    expect(page.names).toEqual(['renamed']);
    expect(page.flags[0]! & (PAGE_ENABLED | PAGE_DONE)).toBe(0);
    await store.deleteJob(job.id);
    page = store.jobPage(null, 10, 0);
    expect(page.ids).toEqual([]);
  });
});
