/** The real binary without a daemon: usage errors, `next`, and job commands against the store directly. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '../../src/model/job';
import type { Run } from '../../src/model/run';
import { expectUsageError, rae, withOptions } from './harness';

jest.setTimeout(120_000);

let home: string;
let dir: string;
/** `rae-sched ...args --data-dir <dir>`, with $RAE_SCHED_HOME pointing elsewhere so the flag is what counts. */
const cli = (...args: string[]) => rae(withOptions(args, ['--data-dir', dir]), { env: { RAE_SCHED_HOME: home } });

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'rae-home-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rae-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('usage errors → exit 2, one line, no stack', () => {
  it.each([
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['add', 'only-a-name'], "missing required argument 'schedule'"],
    [['status'], "missing required argument 'job'"],
    [['add', 'n', 'every 1s', 'true', '--overlap', 'sometimes'], '--overlap'],
    [['add', 'n', 'every 1s', 'true', '--timeout', 'forever'], '--timeout'],
    [['add', 'n', 'every 1s', 'true', '--env', 'NOEQ'], '--env'],
    [['add', 'n', 'every 1s'], 'COMMAND'],
    [['history', 'x', '--limit', '0'], '--limit'],
    [['list', '--colour'], "unknown option '--colour'"],
    [['daemon', '--grace', 'soon'], '--grace'],
    // A typo in a path is caught when the job is added, not on every run after.
    [['add', 'n', 'every 1s', '--module', '/nonexistent/rae-qa/job.js'], '--module'],
    [['add', 'n', 'every 1s', 'true', '--cwd', '/nonexistent/rae-qa'], '--cwd'],
    [['add', 'n', 'every 1s', 'true', '--isolation', 'thread'], '--isolation: only applies to --module jobs'],
    [['add', 'n', 'every 1s', '--module', '/nonexistent/rae-qa/job.js', '--isolation', 'vm'], '--isolation'],
    [['add', 'n', 'every 1s', '--module', '/nonexistent/rae-qa/job.js', '--max-cpu', '50'], '--max-cpu'],
  ])('%j', async (args, mentions) => {
    expectUsageError(await cli(...args), mentions);
  });

  it('shows the stack only with --debug', async () => {
    const r = await cli('add', 'n', 'every 1s', 'true', '--timeout', 'forever', '--debug');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^rae-sched: error: --timeout/);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe('next', () => {
  it('prints fire times in UTC and in the zone', async () => {
    const r = await cli('next', '0 9 * * MON-FRI', '--tz', 'Europe/Paris', '--from', '2026-03-27T00:00:00Z', '--count', '3');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    // Friday before the DST change (UTC+1), then Monday and Tuesday after it (UTC+2).
    expect(lines[1]).toMatch(/^2026-03-27T08:00:00\.000Z\s+Fri 2026-03-27 09:00:00/);
    expect(lines[2]).toMatch(/^2026-03-30T07:00:00\.000Z\s+Mon 2026-03-30 09:00:00/);
  });

  it('prints {"next": [ISO UTC]} with --json', async () => {
    const r = await cli('next', 'every 30s', '--from', '2026-01-01T00:00:00Z', '--count', '2', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ next: ['2026-01-01T00:00:30.000Z', '2026-01-01T00:01:00.000Z'] });
  });

  it.each([
    [['61 * * * *'], '61'],
    [['every banana'], 'banana'],
    [['@daily', '--tz', 'Mars/Olympus_Mons'], '--tz'],
    [['@daily', '--from', 'yesterday-ish'], '--from'],
    [['@daily', '--count', 'many'], '--count'],
  ])('%j is refused naming the part that is wrong', async (args, mentions) => {
    expectUsageError(await cli('next', ...args), mentions);
  });
});

describe('without a daemon', () => {
  it('health reports the daemon down (exit 1) and events refuses (exit 1)', async () => {
    const h = await cli('health', '--json');
    expect(h.code).toBe(1);
    expect(JSON.parse(h.stdout)).toMatchObject({ healthy: false, components: { daemon: { healthy: false } } });
    const e = await cli('events');
    expect(e.code).toBe(1);
    expect(e.stderr.trim()).toMatch(/^rae-sched: error: events needs a running daemon/);
  });

  it('adds, lists, shows, pauses, resumes and removes jobs in the store', async () => {
    const add = await cli('add', 'tick', 'every 5m', 'echo tick', '--retries', '2', '--timeout', '30s', '--overlap', 'queue');
    expect(add.code).toBe(0);
    const id = add.stdout.trim();
    expect(id).toMatch(/^job_/);

    const argvJob = await cli('add', 'argv', 'never', '--json', '--', 'printf', '%s', 'a b');
    expect(argvJob.code).toBe(0);
    expect((JSON.parse(argvJob.stdout) as Job).command).toEqual({ argv: ['printf', '%s', 'a b'] });

    const list = JSON.parse((await cli('list', '--json')).stdout) as Job[];
    expect(list.map((j) => j.name).sort()).toEqual(['argv', 'tick']);
    const table = await cli('list');
    expect(table.stdout).toMatch(/^NAME\s+ID\s+SCHEDULE/);
    expect(table.stdout).toMatch(/tick\s+job_\S+\s+every 5m/);

    const status = JSON.parse((await cli('status', 'tick', '--json')).stdout) as Job;
    expect(status).toMatchObject({ id, name: 'tick', retry: { maxRetries: 2 }, limits: { timeoutMs: 30_000 }, overlap: 'queue' });
    expect((await cli('status', id)).stdout).toMatch(/^name:\s+tick$/m);

    expect(JSON.parse((await cli('pause', 'tick', '--json')).stdout).state).toBe('paused');
    expect(JSON.parse((await cli('status', 'tick', '--json')).stdout).state).toBe('paused');
    expect(JSON.parse((await cli('resume', 'tick', '--json')).stdout).state).not.toBe('paused');

    const dup = await cli('add', 'tick', 'every 1m', 'true');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/^rae-sched: error: /);

    expect((await cli('remove', 'tick')).code).toBe(0);
    const gone = await cli('status', 'tick');
    expect(gone.code).toBe(1);
    expect(gone.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(JSON.parse((await cli('list', '--json')).stdout).map((j: Job) => j.name)).toEqual(['argv']);
  });

  it('run executes in the foreground, records the run, and exits by its outcome', async () => {
    await cli('add', 'ok', 'never', 'echo hello-run');
    await cli('add', 'bad', 'never', 'exit 3');
    const ok = await cli('run', 'ok', '--json');
    expect(ok.code).toBe(0);
    const run = JSON.parse(ok.stdout) as Run;
    expect(run).toMatchObject({ status: 'succeeded', trigger: 'manual', exitCode: 0 });
    expect(run.output).toContain('hello-run');
    const bad = await cli('run', 'bad');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^status:\s+failed$/m);

    const history = JSON.parse((await cli('history', 'ok', '--json')).stdout) as Run[];
    expect(history.map((r) => r.id)).toEqual([run.id]);
    expect((await cli('history', 'bad')).stdout).toMatch(/failed\s+manual\s+1/);
  });

  it.each([
    ['firstAt after at', { firstAt: '2030-01-01T00:10:00.000Z', count: 3 }],
    ['count without firstAt', { count: 3 }],
    ['firstAt without count', { firstAt: '2029-12-31T23:50:00.000Z' }],
    ['a range of one slot', { firstAt: '2029-12-31T23:50:00.000Z', count: 1 }],
    ['a range that is not missed', { firstAt: '2029-12-31T23:50:00.000Z', count: 3, outcome: 'fired' }],
  ])('restore refuses a slot range that does not hold together (%s): exit 2, one line, nothing written', async (_what, range) => {
    await cli('add', 'keep', 'never', 'true');
    const backup = join(dir, 'b.json');
    expect((await cli('backup', backup)).code).toBe(0);
    const doc = JSON.parse(await readFile(backup, 'utf8')) as { jobs: Job[]; slots: unknown[] };
    doc.slots.push({
      jobId: doc.jobs[0]!.id, at: '2030-01-01T00:00:00.000Z', outcome: 'missed', runId: null, reason: 'down',
      recordedAt: '2030-01-01T00:00:01.000Z', ...range,
    });
    await writeFile(backup, JSON.stringify(doc));
    const target = await mkdtemp(join(tmpdir(), 'rae-cli-restore-'));
    try {
      const r = await rae(['restore', backup, '--data-dir', target], { env: { RAE_SCHED_HOME: home } });
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
      expect(r.stderr).toMatch(/slots/);
      const listed = await rae(['list', '--json', '--data-dir', target], { env: { RAE_SCHED_HOME: home } });
      expect(listed.code === 0 ? JSON.parse(listed.stdout) : []).toEqual([]);
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  });

  it('restore refuses a file that is not JSON, naming it, and changes nothing', async () => {
    await cli('add', 'keep', 'never', 'true');
    const bad = join(dir, 'not-json.txt');
    await writeFile(bad, 'this is { not json');
    expectUsageError(await cli('restore', bad), 'not-json.txt');
    expectUsageError(await cli('restore', join(dir, 'missing.json')), 'missing.json');
    const backup = join(dir, 'b.json');
    expect((await cli('backup', backup)).code).toBe(0);
    expect(JSON.parse(await readFile(backup, 'utf8'))).toMatchObject({ format: 'rae-sched-backup', jobs: [{ name: 'keep' }] });
    expect(JSON.parse((await cli('list', '--json')).stdout).map((j: Job) => j.name)).toEqual(['keep']);
  });
});
