/** CLI conventions of issue 11, through the real binary (no daemon). */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectUsageError, rae } from './harness';

jest.setTimeout(120_000);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rae-conv-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('global options before the command', () => {
  it('rae-sched --data-dir X --json list is rae-sched list --data-dir X --json', async () => {
    expect((await rae(['--data-dir', dir, 'add', 'a', 'never', 'true'])).code).toBe(0);
    const r = await rae(['--data-dir', dir, '--json', 'list']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Array<{ name: string }>).map((j) => j.name)).toEqual(['a']);
    const eq = await rae([`--data-dir=${dir}`, 'status', 'a', '--json']);
    expect(JSON.parse(eq.stdout)).toMatchObject({ name: 'a' });
  });
});

describe('read commands on a directory with no store', () => {
  it.each([['list'], ['status', 'x'], ['history', 'x'], ['stats'], ['why', 'x'], ['run', 'x'], ['remove', 'x']])(
    '%j says so (exit 1) and creates nothing', async (...args) => {
      const typo = join(dir, 'typo');
      const r = await rae([...args, '--data-dir', typo]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^rae-sched: error: no store in .*typo/);
      expect(existsSync(typo)).toBe(false);
    });
});

describe('typos and odd names', () => {
  it('suggests the option or command meant', async () => {
    const opt = await rae(['add', 'n', 'every 1s', 'true', '--tiemout', '5s', '--data-dir', dir]);
    expectUsageError(opt, "unknown option '--tiemout' (Did you mean --timeout?)");
    expectUsageError(await rae(['lsit']), "unknown command 'lsit' (Did you mean list?)");
  });

  it('--after a:exploded says the outcome is unknown', async () => {
    expect((await rae(['add', 'a', 'never', 'true', '--data-dir', dir])).code).toBe(0);
    const r = await rae(['add', 'b', 'never', 'true', '--after', 'a:exploded', '--data-dir', dir]);
    expectUsageError(r, "'exploded' is not an outcome (use a, a:succeeded, a:failed or a:finished)");
  });

  it('a name starting with - is given with --name', async () => {
    expect((await rae(['add', '--name', '-weird', 'never', 'true', '--data-dir', dir])).code).toBe(0);
    expect((await rae(['add', '--name=--x', 'never', 'echo hi', '--data-dir', dir])).code).toBe(0);
    const jobs = JSON.parse((await rae(['list', '--json', '--data-dir', dir])).stdout) as Array<{ name: string; command: string }>;
    expect(jobs.map((j) => [j.name, j.command])).toEqual([['-weird', 'true'], ['--x', 'echo hi']]);
  });

  it('a name over 200 characters gets our message', async () => {
    expectUsageError(await rae(['add', 'x'.repeat(201), 'never', 'true', '--data-dir', dir]), 'name: is longer than 200 characters');
  });
});

describe('--json errors', () => {
  it('print one JSON document on stdout besides the stderr line', async () => {
    const r = await rae(['status', 'nope', '--json', '--data-dir', dir]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'NOT_FOUND', message: expect.stringMatching(/no store/), field: null } });
    const v = await rae(['next', '61 * * * *', '--json']);
    expect(v.code).toBe(2);
    expect(JSON.parse(v.stdout)).toEqual({ error: { code: 'VALIDATION', message: expect.stringMatching(/minute field '61'/), field: 'schedule' } });
    const u = await rae(['list', '--colour', '--json']);
    expect(JSON.parse(u.stdout)).toMatchObject({ error: { code: 'VALIDATION', message: "unknown option '--colour'" } });
  });
});

describe('offline stats', () => {
  it('says it shows stored history only', async () => {
    expect((await rae(['add', 'a', 'never', 'true', '--data-dir', dir])).code).toBe(0);
    const r = await rae(['stats', '--data-dir', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^no daemon runs: stored history only/);
    expect(r.stdout).not.toMatch(/^uptime:/m);
  });
});

describe('completion', () => {
  it('prints a bash script that completes commands and options', async () => {
    const r = await rae(['completion', 'bash']);
    expect(r.code).toBe(0);
    const script = join(dir, 'c.bash');
    await writeFile(script, r.stdout);
    const complete = (words: string[]): string[] => execFileSync('bash', ['-c',
      `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _rae_sched; printf '%s\\n' "\${COMPREPLY[@]}"`],
    { encoding: 'utf8' }).split('\n').filter((l) => l !== '');
    expect(complete(['rae-sched', 'hi'])).toEqual(['history']);
    expect(complete(['rae-sched', 'add', '--ti'])).toEqual(['--timeout']);
    expect(complete(['rae-sched', '--json', 'li'])).toEqual(['list']);
  });

  it.each(['zsh', 'fish'])('prints a %s script naming every command', async (shell) => {
    const r = await rae(['completion', shell]);
    expect(r.code).toBe(0);
    for (const c of ['add', 'list', 'history', 'completion']) expect(r.stdout).toContain(c);
  });

  it('refuses an unknown shell', async () => {
    expectUsageError(await rae(['completion', 'tcsh']), "SHELL: 'tcsh' is not one of bash, zsh, fish");
  });
});
