/**
 * The jobs snapshot behind filtered job pages: kept current by events, refreshed in the background
 * when old (readers are not made to wait), events during a refresh not lost, writes through the API
 * seen at once.
 */
import { JobSnapshot } from '../../src/http/job-snapshot';
import type { Job } from '../../src/model/job';
import type { Run } from '../../src/model/run';

const job = (id: string, extra: Partial<Job> = {}): Job => ({ id, name: `n-${id}`, lastRun: null, ...extra }) as unknown as Job;
const ids = (jobs: Job[]): string[] => jobs.map((j) => j.id);
const at = '2026-12-01T00:00:00.000Z';

/** A store read the test completes by hand. */
function reads(): { read: () => Promise<Job[]>; count: () => number; finish: (jobs: Job[]) => void } {
  const pending: Array<(jobs: Job[]) => void> = [];
  let n = 0;
  return {
    read: () => { n++; return new Promise((r) => pending.push(r)); },
    count: () => n,
    finish: (jobs) => pending.shift()!(jobs),
  };
}

it('reads once, then follows job and run events without reading again', async () => {
  const r = reads();
  const snap = new JobSnapshot(r.read, { maxAgeMs: 2000, now: () => 0 });
  const first = snap.get();
  r.finish([job('j3'), job('j1')]);
  expect(ids(await first)).toEqual(['j1', 'j3']);
  snap.apply({ type: 'job.added', at, job: job('j2') });
  snap.apply({ type: 'job.updated', at, job: job('j3', { name: 'renamed' }) });
  snap.apply({ type: 'job.removed', at, jobId: 'j1', name: 'n-j1' });
  snap.apply({ type: 'run.finished', at, run: { id: 'r1', jobId: 'j2', status: 'succeeded' } as unknown as Run });
  const now = await snap.get();
  expect(ids(now)).toEqual(['j2', 'j3']);
  expect(now[1]!.name).toBe('renamed');
  expect(now[0]!.lastRun).toMatchObject({ id: 'r1' });
  expect(r.count()).toBe(1);
});

it('lastRun follows started and finished runs, newest first; a queued run does not count', async () => {
  const r = reads();
  const snap = new JobSnapshot(r.read, { maxAgeMs: 2000, now: () => 0 });
  const first = snap.get();
  r.finish([job('j1')]);
  await first;
  const run = (id: string, status: string): Run => ({ id, jobId: 'j1', status } as unknown as Run);
  snap.apply({ type: 'run.finished', at, run: run('r1', 'succeeded') });
  snap.apply({ type: 'run.queued', at, run: run('r3', 'queued') });
  expect((await snap.get())[0]!.lastRun).toMatchObject({ id: 'r1' });
  snap.apply({ type: 'run.started', at, run: run('r2', 'running') });
  expect((await snap.get())[0]!.lastRun).toMatchObject({ id: 'r2', status: 'running' });
  // r0 (older) ends after r2 started: r2 stays the last run.
  snap.apply({ type: 'run.finished', at, run: run('r0', 'failed') });
  expect((await snap.get())[0]!.lastRun).toMatchObject({ id: 'r2' });
  snap.apply({ type: 'run.finished', at, run: run('r2', 'succeeded') });
  expect((await snap.get())[0]!.lastRun).toMatchObject({ id: 'r2', status: 'succeeded' });
});

it('when old, answers at once and refreshes behind; events during the refresh are kept', async () => {
  let clock = 0;
  const r = reads();
  const snap = new JobSnapshot(r.read, { maxAgeMs: 2000, now: () => clock });
  const first = snap.get();
  r.finish([job('j1')]);
  await first;
  clock = 5000;
  // Old: the current one is answered, a read starts.
  expect(ids(await snap.get())).toEqual(['j1']);
  expect(r.count()).toBe(2);
  // A second reader meanwhile does not start another read.
  await snap.get();
  expect(r.count()).toBe(2);
  // This event happens after the read's snapshot was taken: it must survive the refresh.
  snap.apply({ type: 'job.added', at, job: job('j9') });
  r.finish([job('j1'), job('j5')]);
  await new Promise((res) => setImmediate(res));
  expect(ids(await snap.get())).toEqual(['j1', 'j5', 'j9']);
  expect(r.count()).toBe(2);
});

it('sees the answers of writes through the API at once; a restore makes the next reader wait for a read', async () => {
  const r = reads();
  const snap = new JobSnapshot(r.read, { maxAgeMs: 2000, now: () => 0 });
  const first = snap.get();
  r.finish([job('j1'), job('j2')]);
  await first;
  snap.written('pauseJob', job('j1', { enabled: false }), 'j1');
  snap.written('removeJob', { removed: 'n-j2' }, 'n-j2');
  snap.written('runJob', { id: 'r7', jobId: 'j1', status: 'queued' }, 'j1');
  const now = await snap.get();
  expect(ids(now)).toEqual(['j1']);
  // A queued run is not a last run (src/actors/scheduler/runs.ts lastRunOf): it has not started.
  expect(now[0]).toMatchObject({ enabled: false, lastRun: null });
  snap.written('restore', { jobs: 1, runs: 0 }, undefined);
  const after = snap.get();
  expect(r.count()).toBe(2);
  r.finish([job('j8')]);
  expect(ids(await after)).toEqual(['j8']);
});
