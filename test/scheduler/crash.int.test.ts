/**
 * A crash in the middle of the run path: the whole scheduler process is killed (`kill -9`) while
 * slots fire every second, runs execute and batches commit. On restart, on the same store: the
 * runs that were in flight are recorded `interrupted`, no slot has run twice, every slot from the
 * first to the last is accounted for, and the jobs fire again.
 *
 * Real clock, real child process, so every wait here is on an event (a line from the child, an
 * event of the restarted scheduler) with a deadline sized for a loaded 2-core machine, never a
 * fixed sleep. It used to be load-sensitive (60 s timeouts at load ~25, never traced to one
 * phase) for reasons in the test, not the scheduler:
 * - one deadline of 60 s covered the child's start-up and its first runs. Start-up is CPU-bound
 *   (a fresh Node, its worker threads, the store): 0.5 s on a quiet machine, 10 s measured at load
 *   ~9. Each phase now has its own deadline, sized for a loaded machine, and a failure says which
 *   phase it was in and what the child had done;
 * - its kill condition wanted 3 runs in flight at once: a condition on how the load spreads a
 *   second's five starts (`sleep 0.6` each), which a loaded run host can spread too far apart for
 *   3 to overlap. Any run the child has just started is in flight: the kill now comes at the first
 *   start once 10 runs ran to the end (commits on the store); at least that run is in flight
 *   (checked);
 * - after the restart it slept 2.5 s and then required every job to have succeeded again (a run
 *   takes 0.6 s plus a loaded spawn): it now waits for each job's next success.
 * It also asserted that every run it had seen start without seeing it finish was interrupted,
 * which a loaded machine can falsify honestly: a run may finish, commit and print its line in the
 * moment between the kill decision and the signal. Each such run is now looked up in the store
 * right after the kill: final there, it finished before the signal (not in flight); not final,
 * it was in flight and must be `interrupted` after the restart (at least one is).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { Store } from '../../src/actors/persistence/store';
import { FINAL_RUN_STATUSES } from '../../src/model/run';
import { SystemClock } from '../../src/runtime/clock';
import { createScheduler } from '../../src/index';
import { checkSlots, Ledger, readStore } from '../helpers/ledger';
import { removeDir, tempDir } from '../helpers/scheduler';

/** Start-up of the child (a fresh process, worker threads, the store) on a loaded machine. */
const CHILD_READY_MS = 90_000;
/** From ready to 10 runs ran to the end (5 jobs every second, 0.6 s each: ~3 s when quiet). */
const KILL_CONDITION_MS = 90_000;
/** After the restart, until every job succeeded again (a second's fire, 0.6 s, a loaded spawn). */
const FIRE_AGAIN_MS = 60_000;

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
      let ready = false;
      await new Promise<void>((resolve, reject) => {
        const fail = (why: string): void => {
          child.kill('SIGKILL');
          reject(new Error(`${why} (ready ${ready}, ${started.size} started, ${ranToEnd} ran to the end, ${running.size} running)`));
        };
        let t = setTimeout(() => fail(`the child scheduler was not ready within ${CHILD_READY_MS} ms`), CHILD_READY_MS);
        child.once('exit', (code, signal) => fail(`the child exited early (${code ?? signal})`));
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const [what, id] = line.split(' ');
          if (what === 'ready') {
            ready = true;
            clearTimeout(t);
            t = setTimeout(() => fail(`10 runs did not run to the end within ${KILL_CONDITION_MS} ms of ready`), KILL_CONDITION_MS);
          }
          if (what === 'started') { started.add(id!); running.add(id!); }
          if (what === 'finished') {
            finished.add(id!);
            if (running.delete(id!)) ranToEnd++;
          }
          // The run just started (0.6 s) is in flight, and others may be: kill now.
          if (what === 'started' && ranToEnd >= 10) {
            clearTimeout(t);
            child.removeAllListeners('exit');
            child.kill('SIGKILL');
            resolve();
          }
        });
      });
      await new Promise((r) => child.once('exit', r));
      const seenInFlight = [...started].filter((id) => !finished.has(id));

      // What the store held at the kill. A run seen starting without a finished line is either in
      // flight there (not final: the executor had it), or it finished just before the signal.
      const atKill = await Store.open({ dataDir: dir, readOnly: true });
      const final = new Set<string>(FINAL_RUN_STATUSES);
      const jobIds = atKill.listJobs().map((j) => j.id);
      const statusAtKill = new Map(seenInFlight.map((id) => [id, atKill.getRun(id)?.status]));
      await atKill.close();
      const inFlight = seenInFlight.filter((id) => !final.has(statusAtKill.get(id)!));
      // At least the run whose start triggered the kill.
      expect(inFlight.length).toBeGreaterThanOrEqual(1);
      for (const id of seenInFlight) expect({ id, status: statusAtKill.get(id) }).toEqual({ id, status: expect.any(String) });

      const b = await createScheduler({ dataDir: dir, clock: new SystemClock(), maxConcurrentJobs: 16 });
      const ledger = new Ledger(b);
      // Recovery happened before createScheduler resolved; wait until every job succeeded again.
      const again = new Set<string>();
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`only ${again.size} of ${jobIds.length} jobs succeeded again within ${FIRE_AGAIN_MS} ms`)), FIRE_AGAIN_MS);
        const sub = b.events$.subscribe((e) => {
          if (e.type !== 'run.finished' || e.run.status !== 'succeeded' || started.has(e.run.id)) return;
          again.add(e.run.jobId);
          if (again.size === jobIds.length) {
            clearTimeout(t);
            sub.unsubscribe();
            resolve();
          }
        });
      });
      await b.shutdown({ graceMs: 5000 });
      ledger.stop();

      const store = await Store.open({ dataDir: dir, readOnly: true });
      const runs = inFlight.map((id) => store.getRun(id));
      await store.close();
      for (const [i, r] of runs.entries()) expect({ id: inFlight[i], status: r?.status }).toEqual({ id: inFlight[i], status: 'interrupted' });
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
  }, CHILD_READY_MS + KILL_CONDITION_MS + FIRE_AGAIN_MS + 30_000);
});
