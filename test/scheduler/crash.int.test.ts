/**
 * A crash in the middle of the run path: the whole scheduler process is killed (`kill -9`) while
 * slots fire every second, runs execute and batches commit. On restart, on the same store: the
 * runs that were in flight are recorded `interrupted`, no slot has run twice, every slot from the
 * first to the last is accounted for, and the jobs fire again.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { Store } from '../../src/actors/persistence/store';
import { SystemClock } from '../../src/runtime/clock';
import { createScheduler } from '../../src/index';
import { checkSlots, Ledger, readStore } from '../helpers/ledger';
import { removeDir, tempDir } from '../helpers/scheduler';

describe('kill -9 in the middle of a batch', () => {
  it('restart records the in-flight runs interrupted; no slot runs twice', async () => {
    const dir = tempDir();
    try {
      const child = spawn(process.execPath, [path.join(__dirname, '../helpers/crash-child.js'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      const started = new Set<string>();
      const finished = new Set<string>();
      // Started and not finished. (Counted apart: a run skipped by overlap under load is
      // `finished` without ever starting, so started.size - finished.size says nothing.)
      const running = new Set<string>();
      let ranToEnd = 0;
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('the child scheduler never got going')), 60_000);
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const [what, id] = line.split(' ');
          if (what === 'started') { started.add(id!); running.add(id!); }
          if (what === 'finished') {
            finished.add(id!);
            if (running.delete(id!)) ranToEnd++;
          }
          // Runs just started (0.6 s each) are certainly in flight: kill now.
          if (what === 'started' && ranToEnd >= 10 && running.size >= 3) {
            clearTimeout(t);
            child.kill('SIGKILL');
            resolve();
          }
        });
      });
      await new Promise((r) => child.once('exit', r));
      const inFlight = [...started].filter((id) => !finished.has(id));

      const b = await createScheduler({ dataDir: dir, clock: new SystemClock(), maxConcurrentJobs: 16 });
      const ledger = new Ledger(b);
      // Recovery happened before createScheduler resolved; let the jobs fire again for a while.
      await new Promise((r) => setTimeout(r, 2500));
      const jobIds = (await b.listJobs()).map((j) => j.id);
      await b.shutdown({ graceMs: 5000 });
      ledger.stop();

      const store = await Store.open({ dataDir: dir, readOnly: true });
      const runs = inFlight.map((id) => store.getRun(id));
      await store.close();
      for (const r of runs) expect(r?.status).toBe('interrupted');
      const { jobs, unfinished } = await readStore(dir, jobIds);
      expect(unfinished).toBe(0);
      for (const id of jobIds) {
        const stored = jobs.get(id)!;
        expect(checkSlots(stored, 1000)).toEqual([]);
        // Fired again after the restart.
        expect(stored.runs.some((r) => r.status === 'succeeded' && !started.has(r.id))).toBe(true);
      }
    } finally {
      removeDir(dir);
    }
  }, 120_000);
});
