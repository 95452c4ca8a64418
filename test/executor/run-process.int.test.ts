/**
 * Real child processes through the real built worker file: exit statuses, argv without a shell,
 * cwd/env, the output ring, and commands that cannot start.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ExecutorPool } from '../../src/actors/executor';
import { isRunning, printedPids, request, tempDir } from './helpers';

let pool: ExecutorPool;
let tmp: ReturnType<typeof tempDir>;

beforeAll(() => {
  pool = new ExecutorPool({ maxConcurrent: 4 });
  tmp = tempDir();
});
afterAll(async () => {
  await pool.close({ graceMs: 0 });
  tmp.cleanup();
});

const run = (over: Parameters<typeof request>[0]) => pool.start(request(over)).result;

describe('exit statuses', () => {
  it('exit 0 is succeeded, with stdout and stderr in one output', async () => {
    const r = await run({ command: 'echo out; echo err >&2' });
    expect(r).toMatchObject({ status: 'succeeded', exitCode: 0, signal: null, error: null });
    expect(r.output).toBe('out\nerr\n');
    expect(r.finishedAt).toBeGreaterThanOrEqual(r.startedAt);
    expect(r.durationMs).toBe(r.finishedAt - r.startedAt);
  });

  it('a non-zero exit is failed with its exit code', async () => {
    const r = await run({ command: 'echo before; exit 7' });
    expect(r).toMatchObject({ status: 'failed', exitCode: 7, signal: null });
    expect(r.error).toMatch(/code 7/);
    expect(r.output).toBe('before\n');
  });

  it('death by a signal is failed with the signal name', async () => {
    const r = await run({ command: 'kill -USR1 $$' });
    expect(r).toMatchObject({ status: 'failed', exitCode: null, signal: 'SIGUSR1' });
    expect(r.error).toMatch(/SIGUSR1/);
  });

  it('calls onStarted with the pid before the result resolves', async () => {
    const events: string[] = [];
    const handle = pool.start(request({ command: 'echo $$' }), {
      onStarted: ({ pid, startedAt }) => events.push(`started ${pid} ${startedAt}`),
    });
    const r = await handle.result;
    events.push('result');
    expect(events).toEqual([`started ${r.output.trim()} ${r.startedAt}`, 'result']);
  });

  it('leaves nothing behind: background processes of a finished run are killed', async () => {
    const r = await run({ command: 'sleep 100 & echo $!', killGraceMs: 500 });
    expect(r.status).toBe('succeeded');
    const [bg] = printedPids(r.output);
    expect(bg).toBeGreaterThan(0);
    expect(isRunning(bg!)).toBe(false);
  });
});

describe('argv commands', () => {
  it('passes every argument literally, with no shell', async () => {
    const marker = path.join(tmp.dir, 'pwned');
    const args = ['a; touch ' + marker, '$(touch ' + marker + ')', '`id`', '*', '$HOME', 'two words'];
    const r = await run({ command: { argv: ['/usr/bin/printf', '%s\\n', ...args] } });
    expect(r.status).toBe('succeeded');
    expect(r.output).toBe(args.map((a) => a + '\n').join(''));
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('finds the program on PATH', async () => {
    const r = await run({ command: { argv: ['sh', '-c', 'exit 3'] } });
    expect(r).toMatchObject({ status: 'failed', exitCode: 3 });
  });
});

describe('cwd and env', () => {
  it('runs in cwd with env merged over the scheduler environment', async () => {
    const r = await run({
      command: 'pwd; echo "$RAE_TEST_VAR"; echo "${PATH:+has-path}"; echo "$RAE_SCHED_JOB_ID $RAE_SCHED_ATTEMPT"',
      cwd: tmp.dir,
      env: { RAE_TEST_VAR: 'x y=z' },
      attempt: 3,
    });
    expect(r.status).toBe('succeeded');
    expect(r.output.split('\n')).toEqual([fs.realpathSync(tmp.dir), 'x y=z', 'has-path', 'job-test 3', '']);
  });
});

describe('output ring', () => {
  it('keeps only the last 64 KiB of a large output', async () => {
    // ~600 KB of numbered lines; the tail must be exact.
    const r = await run({ command: 'i=0; while [ $i -lt 60000 ]; do echo "line $i"; i=$((i+1)); done' });
    expect(r.status).toBe('succeeded');
    expect(Buffer.byteLength(r.output)).toBe(64 * 1024);
    expect(r.output.endsWith('line 59998\nline 59999\n')).toBe(true);
    expect(r.output).not.toContain('line 100\n');
  });

  it('honours a smaller outputLimitBytes', async () => {
    const r = await run({ command: 'echo 0123456789abcdef', outputLimitBytes: 8 });
    expect(r.output).toBe('9abcdef\n');
  });
});

describe('commands that cannot start', () => {
  it('a missing program is failed with a clear error, not a thrown task', async () => {
    const r = await run({ command: { argv: ['/nonexistent/rae-no-such-program', 'x'] } });
    expect(r).toMatchObject({ status: 'failed', exitCode: null, output: '' });
    expect(r.error).toMatch(/cannot start.*rae-no-such-program.*ENOENT/);
  });

  it('a missing cwd is failed naming the cwd', async () => {
    const missing = path.join(tmp.dir, 'no-such-dir');
    const r = await run({ command: 'true', cwd: missing });
    expect(r.status).toBe('failed');
    expect(r.error).toContain(missing);
  });

  it('an empty command or argv is failed naming the field', async () => {
    expect((await run({ command: '  ' })).error).toMatch(/^command:/);
    expect((await run({ command: { argv: [] } })).error).toMatch(/^command\.argv:/);
    expect((await run({})).status).toBe('failed');
  });

  it('the pool keeps working after all of these', async () => {
    expect((await run({ command: 'echo fine' })).output).toBe('fine\n');
  });
});
