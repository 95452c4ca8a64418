/**
 * The store across real processes and threads: a CLI-like process beside an open store, a process
 * SIGKILLed right after a write was acknowledged, open/close cycles in worker threads, and the
 * built persistence worker hosted by the runtime.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Store } from '../../src/actors/persistence/store';
import { ThreadIncarnation } from '../../src/runtime/thread-host';
import { makeJob, makeRun, removeDir, tempDir } from './helpers/fixtures';

const CHILD = path.join(__dirname, 'helpers', 'store-child.js');
const THREAD = path.join(__dirname, 'helpers', 'store-thread.js');
const LOGIC = { module: path.join(__dirname, '..', '..', 'src', 'actors', 'persistence', 'actor.js'), export: 'createPersistenceHandlers' };

let dir: string;
beforeEach(() => { dir = tempDir(); });
afterEach(() => removeDir(dir));

/** Runs the child script to completion; resolves with its stdout. */
function runChild(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exit ${code}: ${err}`))));
  });
}

test('a second process sees the open store\'s committed writes, and the other way round', async () => {
  const store = await Store.open({ dataDir: dir });
  try {
    await store.insertJob(makeJob(1, { name: 'from-parent' }));
    expect(JSON.parse(await runChild('get', 'from-parent'))).toMatchObject({ name: 'from-parent' });
    const id = (await runChild('insert', 'from-child')).trim();
    // The parent's store was open all along: its next read sees the other process's commit.
    expect(store.getJobByName('from-child')?.id).toBe(id);
    await expect(store.insertJob(makeJob(2, { name: 'from-child' }))).rejects.toMatchObject({ code: 'CONFLICT' });
  } finally {
    await store.close();
  }
});

test('a job acknowledged to a process that is then SIGKILLed is there on reopen', async () => {
  const child = spawn(process.execPath, [CHILD, dir, 'insert-and-hang', 'survivor'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const id = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /written (\S+)\n/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before acknowledging`)));
  });
  // Killed the instant the write resolved: no close, no exit handlers, nothing flushed later.
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  const store = await Store.open({ dataDir: dir });
  try {
    expect(store.getJobByName('survivor')?.id).toBe(id);
  } finally {
    await store.close();
  }
});

test('open/close cycles in worker threads beside an open store leave every write in place', async () => {
  const main = await Store.open({ dataDir: dir });
  const cycles = 15;
  try {
    const results = await Promise.all(['t1', 't2'].map((tag) => new Promise<{ ok: boolean; written?: number; error?: string }>(
      (resolve, reject) => {
        const w = new Worker(THREAD, { workerData: { dataDir: dir, tag, cycles } });
        let reply: { ok: boolean; written?: number; error?: string } | undefined;
        w.on('message', (m: { ok: boolean }) => { reply = m; });
        w.on('error', reject);
        w.on('exit', (code) => (reply !== undefined && code === 0 ? resolve(reply) : reject(new Error(`worker exit ${code}`))));
      },
    )));
    expect(results).toEqual([{ ok: true, written: cycles }, { ok: true, written: cycles }]);
    // Main thread still works after the threads closed their handles on the shared native env.
    await main.insertJob(makeJob(100, { name: 'main' }));
    expect(main.counts().jobs).toBe(2 * cycles + 1);
  } finally {
    await main.close();
  }
  const again = await Store.open({ dataDir: dir });
  try {
    expect(again.listJobs().map((j) => j.name)).toEqual(expect.arrayContaining(['t1-0', 't2-14', 'main']));
  } finally {
    await again.close();
  }
});

test('the built persistence worker serves the handlers through the runtime, codes kept', async () => {
  const job = makeJob(1);
  const inc = await ThreadIncarnation.start({ name: 'persistence', logic: LOGIC, init: { dataDir: dir } });
  try {
    await inc.invoke('insertJob', { job });
    await inc.invoke('putRun', { run: makeRun(job.id, 1) });
    expect(await inc.invoke('getJobByName', { name: job.name })).toEqual(job);
    await expect(inc.invoke('insertJob', { job: makeJob(2, { name: job.name }) })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(inc.invoke('restore', { doc: { format: 'nope' } })).rejects.toMatchObject({ code: 'VALIDATION' });
  } finally {
    await inc.stop();
  }
  // The stop handler closed the store cleanly; a new opener finds everything.
  const store = await Store.open({ dataDir: dir });
  try {
    expect(store.counts()).toMatchObject({ jobs: 1, runs: 1 });
  } finally {
    await store.close();
  }
});
