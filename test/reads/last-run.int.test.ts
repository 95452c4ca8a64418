/**
 * `lastRun` of a job (CONTRACT `Job.lastRun: Run|null`, `status`: "last run") is its newest run
 * that has started: the newest final one, or one executing now. A run that is only queued (fired
 * and durable but waiting for a slot, a retry waiting for its backoff) has not run: it is not the
 * last run. Every path that shows a job gives the same answer for the same state — the daemon's
 * read view (`getJob`, `listJobs`, a page), the scheduler actor's own answers (`resumeJob`), the
 * offline read view over the same store, and the real `rae-sched` binary without a daemon.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { Store } from '../../src/actors/persistence/store';
import { ReadView } from '../../src/reads/read-view';
import type { Scheduler } from '../../src/api';
import type { Job } from '../../src/model/job';
import type { Run } from '../../src/model/run';
import type { VirtualClock } from '../../src/testing';
import { removeDir, tempDir, useSchedulers } from '../helpers/scheduler';
import { rae } from '../cli/harness';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const SILENT = { debug() {}, info() {}, warn() {}, error() {} };
const shown = (r: Run | null | undefined): string | null => (r == null ? null : `${r.id} ${r.status}`);

/** `lastRun` of job `name` through every path of this process. */
async function everyPath(s: Scheduler, offline: ReadView, name: string): Promise<Record<string, string | null>> {
  const find = (jobs: Job[]): Job => jobs.find((j) => j.name === name)!;
  return {
    getJob: shown((await s.getJob(name)).lastRun),
    listJobs: shown(find(await s.listJobs()).lastRun),
    page: shown(find((await s.listJobs({ limit: 10 })).jobs).lastRun),
    // The scheduler actor's own answer (job-desk.ts): resuming an enabled job changes nothing.
    resumeJob: shown((await s.resumeJob(name)).lastRun),
    offlineGet: shown(offline.getJob(name).lastRun),
    offlineList: shown(find(offline.listJobs()).lastRun),
  };
}

const same = (v: string | null): Record<string, string | null> =>
  ({ getJob: v, listJobs: v, page: v, resumeJob: v, offlineGet: v, offlineList: v });

describe('lastRun', () => {
  const fixture = useSchedulers();
  let flags = '';
  beforeEach(() => { flags = tempDir('rae-flags-'); });
  afterEach(() => removeDir(flags));
  /** A shell command that waits until the flag file exists (the test opens the gate). */
  const gate = (flag: string): string => `while [ ! -e '${path.join(flags, flag)}' ]; do sleep 0.02; done`;
  const open = (flag: string): void => fs.writeFileSync(path.join(flags, flag), '');

  const started = (s: Scheduler, jobId: string): Promise<unknown> =>
    firstValueFrom(s.events$.pipe(filter((e) => e.type === 'run.started' && e.run.jobId === jobId)));

  it('is the newest run that started — a queued one does not count, a running one does — on every path', async () => {
    const { s, clock, runs } = await fixture.open(T0, { maxConcurrentJobs: 1 });
    const store = await Store.open({ dataDir: fixture.dir(), readOnly: true });
    const offline = new ReadView({ store, clock: clock as VirtualClock, mode: 'offline', maxConcurrent: 1, logger: SILENT });
    try {
      const block = await s.addJob({ name: 'block', schedule: 'never', command: gate('go-block') });
      // First run: succeeds at once; every later run waits for its gate.
      const j = await s.addJob({ name: 'j', schedule: 'never', command: `if [ -e '${flags}/ran' ]; then ${gate('go-j')}; else touch '${flags}/ran'; fi` });
      expect(await everyPath(s, offline, 'j')).toEqual(same(null));
      await s.runNow('j');
      const [first] = await runs.wait(1);
      expect(await everyPath(s, offline, 'j')).toEqual(same(`${first!.id} succeeded`));

      // The only slot is taken: a run of `j` is durable and queued, not started.
      const blockStarted = started(s, block.id);
      await s.runNow('block');
      await blockStarted;
      const queued = await s.runNow('j');
      expect(queued.status).toBe('queued');
      expect((await s.history('j'))[0]).toMatchObject({ id: queued.id, status: 'queued' });
      expect(await everyPath(s, offline, 'j')).toEqual(same(`${first!.id} succeeded`));

      // It starts: the daemon shows it running. The store alone holds its record `queued` (a start
      // is not written), so the offline view, which has no live facts, still shows the last final run.
      const jStarted = started(s, j.id);
      open('go-block');
      await jStarted;
      expect(await everyPath(s, offline, 'j')).toEqual({
        ...same(`${queued.id} running`), offlineGet: `${first!.id} succeeded`, offlineList: `${first!.id} succeeded`,
      });
      open('go-j');
      await runs.wait(3);
      expect(await everyPath(s, offline, 'j')).toEqual(same(`${queued.id} succeeded`));
    } finally {
      await store.close();
    }
  }, 60_000);

  it('a failed run waiting for its retry is the last run, not the retry', async () => {
    const { s, clock, runs } = await fixture.open(T0);
    const store = await Store.open({ dataDir: fixture.dir(), readOnly: true });
    const offline = new ReadView({ store, clock: clock as VirtualClock, mode: 'offline', maxConcurrent: 4, logger: SILENT });
    try {
      await s.addJob({ name: 'flaky', schedule: 'never', command: 'exit 3', retry: { maxRetries: 1, backoffMs: 3_600_000 } });
      await s.runNow('flaky');
      const [failed] = await runs.wait(1);
      expect(failed).toMatchObject({ status: 'failed', attempt: 1 });
      // The retry is stored, queued an hour ahead.
      const [retry] = await s.history('flaky');
      expect(retry).toMatchObject({ status: 'queued', trigger: 'retry', attempt: 2 });
      expect(await everyPath(s, offline, 'flaky')).toEqual(same(`${failed!.id} failed`));
    } finally {
      await store.close();
    }
  }, 60_000);

  it('without a daemon (the real binary), a run left queued at a stop is not the last run', async () => {
    const { s, runs } = await fixture.open(T0, { maxConcurrentJobs: 1 });
    await s.addJob({ name: 'block', schedule: 'never', command: gate('never-opened') });
    await s.addJob({ name: 'j', schedule: 'never', command: 'true' });
    await s.runNow('j');
    const [done] = await runs.wait(1);
    await s.runNow('block');
    const parked = await s.runNow('j');
    await s.shutdown({ graceMs: 0 });
    const dir = fixture.dir();
    const stored = JSON.parse((await rae(['history', 'j', '--json', '--data-dir', dir])).stdout) as Run[];
    expect(stored[0]).toMatchObject({ id: parked.id, status: 'queued' });
    const status = JSON.parse((await rae(['status', 'j', '--json', '--data-dir', dir])).stdout) as Job;
    const list = JSON.parse((await rae(['list', '--json', '--data-dir', dir])).stdout) as Job[];
    expect([shown(status.lastRun), shown(list.find((x) => x.name === 'j')!.lastRun)]).toEqual([`${done!.id} succeeded`, `${done!.id} succeeded`]);
  }, 60_000);
});
