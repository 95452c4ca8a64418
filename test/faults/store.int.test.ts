/**
 * Fault suite: stores that cannot be opened (issue 9 item 4). Each damage is made on a real store
 * written by the binary; `list` and `daemon` must then exit 1 promptly with one line naming the
 * file, without a crash (no SIGSEGV/SIGBUS) and without changing the file; `doctor` must fail the
 * store check. Also: the automatic hot backups can be restored.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, truncate, writeFile, cp } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually, rae, startDaemon } from '../cli/harness';
import { tempDir } from './helpers';

jest.setTimeout(120_000);

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('rae-flt-store-'));
  expect((await rae(['add', 'keep', 'every 1h', 'true', '--data-dir', dir])).code).toBe(0);
});
afterEach(async () => cleanup());

const data = () => join(dir, 'store', 'data.mdb');
const digest = (p: string) => (existsSync(p) && statSync(p).isFile() ? createHash('sha256').update(readFileSync(p)).digest('hex') : 'absent');

async function zero(from: number, bytes: number): Promise<void> {
  const fh = await open(data(), 'r+');
  await fh.write(Buffer.alloc(bytes), 0, bytes, from);
  await fh.close();
}

const damages: Array<[string, () => Promise<void>, RegExp]> = [
  ['the store path is a file', async () => {
    await rm(join(dir, 'store'), { recursive: true });
    await writeFile(join(dir, 'store'), 'x');
  }, /store path .*store is not a directory/],
  ['data.mdb is a directory', async () => {
    await rm(data());
    await mkdir(data());
  }, /data\.mdb is not a regular file/],
  ['data.mdb truncated to 0 bytes', () => truncate(data(), 0), /data\.mdb is empty \(0 bytes\)/],
  ['data.mdb truncated to 4 KiB', () => truncate(data(), 4096), /data\.mdb is truncated/],
  ['data.mdb truncated to 8 KiB', () => truncate(data(), 8192), /data\.mdb is truncated/],
  ['data.mdb first two pages zeroed', () => zero(0, 8192), /data\.mdb has no valid LMDB meta page/],
];

describe.each(damages)('a store where %s', (_what, damage, message) => {
  beforeEach(async () => damage());

  it('list and daemon exit 1 promptly with one line naming the file; the file is unchanged; doctor fails it', async () => {
    const before = digest(data());
    for (const args of [['list'], ['daemon']]) {
      const t0 = Date.now();
      const r = await rae([...args, '--data-dir', dir], { timeoutMs: 60_000 });
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('rae-sched:'));
      expect({ args, code: r.code, lines: lines.length }).toEqual({ args, code: 1, lines: 1 });
      expect(lines[0]).toMatch(message);
      expect(lines[0]).toMatch(/restore|move it away/);
      expect(Date.now() - t0).toBeLessThan(30_000);
    }
    expect(digest(data())).toBe(before);
    const doc = await rae(['doctor', '--json', '--data-dir', dir]);
    expect(doc.code).toBe(1);
    const store = (JSON.parse(doc.stdout) as { checks: { name: string; status: string }[] }).checks.find((c) => c.name === 'store');
    expect(store?.status).toBe('fail');
  });
});

describe('damage inside the data pages', () => {
  it('doctor reads the whole store in a helper process and reports it (a crash there is contained)', async () => {
    const fh = await open(data(), 'r+');
    const junk = Buffer.alloc(4096 * 4, 0xa5);
    await fh.write(junk, 0, junk.length, 4096 * 2);
    await fh.close();
    const doc = await rae(['doctor', '--json', '--data-dir', dir]);
    expect(doc.code).toBe(1);
    const store = (JSON.parse(doc.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks.find((c) => c.name === 'store');
    expect(store).toMatchObject({ status: 'fail', detail: expect.stringMatching(/reading the whole store failed/) });
    // The CLI does not hang on it either: it ends (whatever LMDB makes of the page) within the bound.
    const r = await rae(['list', '--data-dir', dir], { timeoutMs: 60_000 });
    expect(r.code).not.toBe(0);
  });
});

describe('automatic hot backups', () => {
  it('daemon --backup-every takes rotating backups; one restores the store after damage', async () => {
    await rae(['add', 'second', 'every 2h', 'true', '--data-dir', dir]);
    const d = await startDaemon(dir, ['--backup-every', '1s', '--backup-keep', '2']);
    const backups = join(dir, 'backups');
    try {
      await eventually(async () => ((await readdir(backups).catch(() => [])).filter((n) => !n.endsWith('.tmp')).length >= 2 ? true : undefined),
        'two automatic backups', 60_000);
      // Rotation: never more than `keep` complete backups.
      await new Promise((r) => setTimeout(r, 2500));
      expect((await readdir(backups)).filter((n) => !n.endsWith('.tmp')).length).toBeLessThanOrEqual(2);
    } finally {
      expect(await d.stop()).toBe(0);
    }
    const newest = (await readdir(backups)).filter((n) => !n.endsWith('.tmp')).sort().pop()!;
    await truncate(data(), 4096);
    expect((await rae(['list', '--data-dir', dir])).code).toBe(1);
    // The documented restore (docs/operations.md): move the damaged store away, copy the backup in.
    await rename(join(dir, 'store'), join(dir, 'store.damaged'));
    await cp(join(backups, newest, 'store'), join(dir, 'store'), { recursive: true });
    const list = await rae(['list', '--json', '--data-dir', dir]);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { name: string }[]).map((j) => j.name).sort()).toEqual(['keep', 'second']);
    expect((await rae(['doctor', '--data-dir', dir])).stdout).toMatch(/OK\s+store\s+readable: 2 jobs/);
  });
});

