/** `listJobs({ limit, after })`, `rae-sched list --limit/--after` and `GET /v1/jobs?limit=&after=`. */
import { join } from 'node:path';
import { useSchedulers } from '../helpers/scheduler';
import { ControlServer } from '../../src/cli/server';
import { RemoteScheduler } from '../../src/cli/client';
import { SchedulerError } from '../../src/errors';
import type { JobPage, Scheduler } from '../../src/api';
import { expectUsageError, rae, socketGet } from '../cli/harness';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof SchedulerError ? err.code : String(err);
  }
}

/** Every page of size `limit`, following `next`; `between` runs after each page. */
async function allPages(s: Scheduler, limit: number, between: (page: number) => Promise<void> = async () => undefined): Promise<JobPage[]> {
  const pages: JobPage[] = [];
  let page = await s.listJobs({ limit });
  for (;;) {
    pages.push(page);
    await between(pages.length);
    if (page.next === null) return pages;
    page = await s.listJobs({ limit, after: page.next });
  }
}

describe('paginated job list', () => {
  const fixture = useSchedulers();

  async function withJobs(n: number): Promise<Scheduler> {
    const { s } = await fixture.open(T0);
    for (let i = 0; i < n; i++) await s.addJob({ name: `j${String(i).padStart(2, '0')}`, schedule: 'never', command: 'true' });
    return s;
  }

  it('pages through every job in creation order, the last page with no next cursor', async () => {
    const s = await withJobs(25);
    const pages = await allPages(s, 10);
    expect(pages.map((p) => p.jobs.length)).toEqual([10, 10, 5]);
    expect(pages.at(-1)!.next).toBeNull();
    expect(pages.flatMap((p) => p.jobs.map((j) => j.name))).toEqual((await s.listJobs()).map((j) => j.name));
    const exact = await allPages(s, 25);
    expect(exact).toHaveLength(1);
    expect((await s.listJobs({})).jobs).toHaveLength(25);
  }, 120_000);

  it('a cursor stays valid while jobs are added and removed: nothing repeated, nothing skipped', async () => {
    const s = await withJobs(12);
    const before = (await s.listJobs()).map((j) => j.name);
    let added = 0;
    const pages = await allPages(s, 5, async (n) => {
      if (n === 1) {
        // New jobs sort after every cursor handed out; removing the job a cursor names is fine.
        await s.addJob({ name: `new${added++}`, schedule: 'never', command: 'true' });
        await s.removeJob(before[4]!);
      }
    });
    const seen = pages.flatMap((p) => p.jobs.map((j) => j.name));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...before, 'new0']);
  }, 120_000);

  it('refuses a bad limit or cursor with a validation error', async () => {
    const s = await withJobs(1);
    for (const limit of [0, -1, 1.5, 10_001]) expect(await codeOf(s.listJobs({ limit }))).toBe('VALIDATION');
    for (const after of ['', 'not a cursor!', 'am9iXzE', Buffer.from('j1.').toString('base64url')]) {
      expect(await codeOf(s.listJobs({ after }))).toBe('VALIDATION');
    }
  }, 120_000);

  it('the CLI pages with --limit/--after; bad values are one line, exit 2', async () => {
    await withJobs(3);
    const dir = fixture.dir();
    const first = await rae(['list', '--limit', '2', '--json', '--data-dir', dir]);
    const page = JSON.parse(first.stdout) as JobPage;
    expect(page.jobs.map((j) => j.name)).toEqual(['j00', 'j01']);
    const human = await rae(['list', '--limit', '2', '--data-dir', dir]);
    expect(human.stdout).toContain(`--after ${page.next}`);
    const second = JSON.parse((await rae(['list', '--limit', '2', '--after', page.next!, '--json', '--data-dir', dir])).stdout) as JobPage;
    expect(second).toMatchObject({ next: null });
    expect(second.jobs.map((j) => j.name)).toEqual(['j02']);
    expectUsageError(await rae(['list', '--after', 'bogus!', '--data-dir', dir]), '--after');
    expectUsageError(await rae(['list', '--limit', '0', '--data-dir', dir]), '--limit');
    expectUsageError(await rae(['list', '--limit', '20000', '--data-dir', dir]), '--limit');
  }, 120_000);

  it('the control API pages with ?limit=&after= (and still answers a plain array without them)', async () => {
    const s = await withJobs(3);
    const socket = join(fixture.dir(), 'api.sock');
    const server = await ControlServer.start(s, socket);
    try {
      const remote = new RemoteScheduler(socket);
      const p1 = await remote.listJobs({ limit: 2 });
      expect(p1.jobs.map((j) => j.name)).toEqual(['j00', 'j01']);
      const p2 = await remote.listJobs({ limit: 2, after: p1.next! });
      expect(p2).toMatchObject({ next: null });
      expect((await remote.listJobs()).map((j) => j.name)).toEqual(['j00', 'j01', 'j02']);
      const bad = await socketGet(socket, '/v1/jobs?after=zzz!');
      expect(bad.status).toBe(400);
      expect((JSON.parse(bad.body) as { error: { code: string; field: string } }).error).toMatchObject({ code: 'VALIDATION', field: 'after' });
      expect((await socketGet(socket, '/v1/jobs?limit=0')).status).toBe(400);
    } finally {
      await server.close();
    }
  }, 120_000);
});
