/** Issue 11's defects through the real binary, without a daemon. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Run } from '../../src/model/run';
import { expectUsageError, rae, withOptions } from './harness';

jest.setTimeout(120_000);

let dir: string;
const cli = (...args: string[]) => rae(withOptions(args, ['--data-dir', dir]));

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rae-gaps-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('run without a daemon', () => {
  it('carries the job\'s retries and its --after dependents through in the foreground, and says so', async () => {
    const mark = join(dir, 'dependent-ran');
    expect((await cli('add', 'flaky', 'never', 'exit 3', '--retries', '2', '--backoff', '100ms')).code).toBe(0);
    expect((await cli('add', 'cleanup', 'never', `echo ran > ${mark}`, '--after', 'flaky:failed')).code).toBe(0);
    const r = await cli('run', 'flaky');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/status:\s+failed/);
    expect(r.stdout).toMatch(/attempt 3/);
    expect(r.stderr).toMatch(/foreground: retry \(attempt 2 of 3\)/);
    expect(r.stderr).toMatch(/foreground: retry \(attempt 3 of 3\)/);
    expect(r.stderr).toMatch(/foreground: .*\(dependency\)/);
    const flaky = JSON.parse((await cli('history', 'flaky', '--json')).stdout) as Run[];
    expect(flaky.map((x) => [x.attempt, x.status])).toEqual([[3, 'failed'], [2, 'failed'], [1, 'failed']]);
    const cleanup = JSON.parse((await cli('history', 'cleanup', '--json')).stdout) as Run[];
    expect(cleanup.map((x) => [x.trigger, x.status])).toEqual([['dependency', 'succeeded']]);
    expect(await readFile(mark, 'utf8')).toBe('ran\n');
  });
});

describe('restore of a file that is not JSON', () => {
  it('says why on one whole line (not cut off mid-sentence)', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, 'hello\nworld\n');
    const r = await cli('restore', file);
    expectUsageError(r, 'is not JSON');
    expect(r.stderr).toMatch(/is not valid JSON\)\n$/);
  });
});
