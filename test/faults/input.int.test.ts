/**
 * Fault suite: bad input through both doors (issue 9 items 8, 9 and the names part of 10). A
 * restore must refuse what `add` refuses, with exit 2 and one line, and change nothing; jobs get a
 * clean environment unless they opt in.
 */
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expectUsageError, rae } from '../cli/harness';
import { tempDir } from './helpers';

jest.setTimeout(120_000);

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('rae-flt-input-')));
afterEach(async () => cleanup());
const cli = (args: string[], env?: NodeJS.ProcessEnv) => rae([...args, '--data-dir', dir], { env });
const names = async () => (JSON.parse((await cli(['list', '--json'])).stdout) as { name: string }[]).map((j) => j.name).sort();

describe('restore validates like add', () => {
  const bad: Array<[string, (job: Record<string, unknown>) => void, string]> = [
    ['jitterMs 9e15', (j) => (j.jitterMs = 9e15), 'jobs[0].jitterMs'],
    ['command and module both null', (j) => { j.command = null; j.module = null; }, 'jobs[0].command'],
    ["an env key ''", (j) => (j.env = { '': 'x' }), 'jobs[0].env'],
    ["an env key 'A=B'", (j) => (j.env = { 'A=B': 'x' }), 'jobs[0].env'],
    ['a name with an ESC sequence', (j) => (j.name = '\u001b[31mred'), 'jobs[0].name'],
    ['a name with \\x01', (j) => (j.name = 'a\u0001b'), 'jobs[0].name'],
    ['inheritEnv with a bad name', (j) => (j.inheritEnv = ['A=B']), 'jobs[0].inheritEnv'],
  ];

  it.each(bad)('refuses %s: exit 2, one line naming the field, store unchanged', async (_what, mutate, field) => {
    expect((await cli(['add', 'orig', 'every 1h', 'true'])).code).toBe(0);
    const file = join(dir, 'b.json');
    expect((await cli(['backup', file])).code).toBe(0);
    const doc = JSON.parse(await readFile(file, 'utf8')) as { jobs: Record<string, unknown>[] };
    mutate(doc.jobs[0]!);
    doc.jobs[0]!.id = 'job_other';
    await writeFile(file, JSON.stringify(doc));
    await cli(['remove', 'orig']);
    await cli(['add', 'current', 'every 2h', 'true']);
    expectUsageError(await cli(['restore', file]), field);
    expect(await names()).toEqual(['current']);
  });

  it('add refuses names with control characters, as restore does', async () => {
    expectUsageError(await cli(['add', '\u001b[2Jboom', 'every 1h', 'true']), 'name: must not contain control characters');
    expectUsageError(await cli(['add', 'a\u0001', 'every 1h', 'true']), 'control characters');
    expect(await names()).toEqual([]);
  });

  it('a JSON document nested 200,000 deep: exit 2 with one clear line', async () => {
    const file = join(dir, 'deep.json');
    await writeFile(file, '['.repeat(200_000) + ']'.repeat(200_000));
    expectUsageError(await cli(['restore', file]), 'nested deeper than 64 levels');
  });

  it('a 600 MB file: exit 2 saying it is too large (documented cap 256 MiB)', async () => {
    const file = join(dir, 'huge.json');
    await writeFile(file, '');
    await truncate(file, 600 * 1024 * 1024); // sparse: no disk used
    expectUsageError(await cli(['restore', file]), 'is too large (600 MiB; a backup file may be at most 256 MiB)');
  });
});

describe('the environment of a job', () => {
  const secret = { AWS_SECRET_ACCESS_KEY: 'do-not-leak', OTHER_THING: 'other' };
  const envOf = async (job: string): Promise<Record<string, string>> => {
    const r = await cli(['run', job, '--wait', '--json'], secret);
    expect(r.code).toBe(0);
    const out = (JSON.parse(r.stdout) as { output: string }).output;
    return Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  };

  it('is clean by default: base variables, --env and RAE_SCHED_* facts, none of the daemon\'s secrets', async () => {
    expect((await cli(['add', 'clean', 'never', 'env', '--env', 'MINE=1'])).code).toBe(0);
    const env = await envOf('clean');
    expect(env.AWS_SECRET_ACCESS_KEY).toBeUndefined();
    expect(env.OTHER_THING).toBeUndefined();
    expect(env.MINE).toBe('1');
    expect(env.PATH).toBeDefined();
    expect(env.RAE_SCHED_JOB_ID).toMatch(/^job_/);
    expect(env.RAE_SCHED_RUN_ID).toMatch(/^run_/);
    expect(env.RAE_SCHED_ATTEMPT).toBe('1');
    const allowed = new Set(['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'TZ', 'MINE', 'PWD', 'SHLVL', '_',
      'RAE_SCHED_JOB_ID', 'RAE_SCHED_RUN_ID', 'RAE_SCHED_ATTEMPT', 'RAE_SCHED_OWNER']);
    expect(Object.keys(env).filter((k) => !allowed.has(k))).toEqual([]);
  });

  it('--inherit-env passes everything; --inherit-env NAME only that; both survive backup/restore', async () => {
    expect((await cli(['add', 'all', 'never', 'env', '--inherit-env'])).code).toBe(0);
    expect((await cli(['add', 'one', 'never', 'env', '--inherit-env', 'AWS_SECRET_ACCESS_KEY'])).code).toBe(0);
    const file = join(dir, 'b.json');
    expect((await cli(['backup', file])).code).toBe(0);
    await cli(['remove', 'all']);
    await cli(['remove', 'one']);
    expect((await cli(['restore', file])).code).toBe(0);
    const all = await envOf('all');
    expect(all).toMatchObject(secret);
    const one = await envOf('one');
    expect(one.AWS_SECRET_ACCESS_KEY).toBe('do-not-leak');
    expect(one.OTHER_THING).toBeUndefined();
  });
});
