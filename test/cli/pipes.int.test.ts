/** Defect 1 of issue 11: a reader that closes the pipe early (`| head`) ends the command quietly. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScheduler } from '../../src';
import { BIN } from './harness';

jest.setTimeout(120_000);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rae-pipe-'));
  // Enough jobs that `list` writes more than a pipe buffer (64 KiB), so a write after `head` left fails.
  const s = await createScheduler({ dataDir: dir, mode: 'offline' });
  for (let i = 0; i < 300; i++) await s.addJob({ name: `job-${i}`, schedule: 'never', command: 'echo a long enough command line' });
  await s.shutdown({ graceMs: 0 });
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `rae-sched ARGS | head -N` in bash with pipefail: rae-sched's own exit code and stderr. */
function piped(args: string[], lines: number): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `set -o pipefail; ${quoted} | head -${lines}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, stdout }));
  });
}

describe('a closed pipe', () => {
  it.each([
    [['next', 'every 1s', '--count', '10000'], 3],
    [['next', 'every 1s', '--count', '10000', '--json'], 1],
    [['list', '--json', '--data-dir', '__DIR__'], 0],
    [['list', '--data-dir', '__DIR__'], 1],
  ])('%j | head -%d exits 0 with nothing on stderr', async (args, lines) => {
    const r = await piped(args.map((a) => (a === '__DIR__' ? dir : a)), lines);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout.split('\n').filter((l) => l !== '').length).toBe(lines);
  });
});
