/**
 * Nothing popped is lost: failures injected at each step of the run path — the fire commit, the
 * hand-over to the executor, the finish commit — and the persistence thread dying mid-commit.
 * Every job keeps firing afterwards and every slot is accounted for exactly once. Virtual clock,
 * real LMDB, real threads and processes (the ask-timeout case runs on the real clock: a slow
 * commit on a virtual clock would hold time still, so its ask could never time out).
 */
import { testHooksOf } from '../../src/scheduler';
import type { InjectedFault } from '../../src/actors/persistence/port';
import { FINAL_RUN_STATUSES } from '../../src/model/run';
import { createScheduler } from '../../src/index';
import { SystemClock } from '../../src/runtime/clock';
import { checkSlots, Ledger, readStore } from '../helpers/ledger';
import { removeDir, tempDir, useSchedulers } from '../helpers/scheduler';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const JOBS = 4;

describe('failures on the run path', () => {
  const fixture = useSchedulers();

  async function scenario(inject: (hooks: ReturnType<typeof testHooksOf>) => Promise<void>, opts: { retries?: number } = {}) {
    const { s, clock } = await fixture.open(T0, { maxConcurrentJobs: 8 });
    const ledger = new Ledger(s);
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      ids.push((await s.addJob({ name: `j${i}`, schedule: 'every 1s', command: 'true', retry: { maxRetries: opts.retries ?? 0, backoffMs: 500 } })).id);
    }
    const step = async (): Promise<void> => {
      await clock.advance(1000);
      // A commit waiting out its retry backoff waits for virtual time: the next step moves it.
      await ledger.quiet(() => clock.now(), async () => (await s.health()).components.store?.healthy === false);
    };
    for (let i = 0; i < 3; i++) await step();
    await inject(testHooksOf(s));
    const unhealthy: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      await step();
      unhealthy.push((await s.health()).components.store?.healthy === false);
    }
    // The faults are spent: the jobs must go on firing.
    for (let i = 0; i < 4; i++) await step();
    const end = clock.now();
    expect((await s.health()).components.store).toEqual({ healthy: true });
    const restarts = Object.fromEntries(testHooksOf(s).children().map((c) => [c.id, c.restarts]));
    await s.shutdown({ graceMs: 5000 });
    const { jobs, unfinished } = await readStore(fixture.dir(), ids);
    expect(unfinished).toBe(0);
    for (const id of ids) {
      const stored = jobs.get(id)!;
      expect(checkSlots(stored, 1000)).toEqual([]);
      // From the first slot to the end, every second has its slot: nothing popped was lost.
      expect(stored.slots[0]!.at).toBe(new Date(T0 + 1000).toISOString());
      expect(Date.parse(stored.slots[stored.slots.length - 1]!.at)).toBe(end);
      // The last slots (after the faults) fired and ran.
      const last = stored.slots[stored.slots.length - 1]!;
      expect(last.outcome).toBe('fired');
      expect(stored.runs.find((r) => r.id === last.runId)?.status).toBe('succeeded');
    }
    // Each slot's outcome was published once.
    for (const [slot, outcomes] of ledger.slotOutcomes) expect([slot, outcomes.length]).toEqual([slot, 1]);
    ledger.stop();
    return { unhealthy, ledger, restarts };
  }

  it.each([
    ['fires', { mode: 'fail', times: 3, when: 'fires' }],
    ['finishes', { mode: 'fail', times: 3, when: 'finishes' }],
  ] as Array<[string, InjectedFault]>)('a failing %s commit is retried with backoff; health shows it meanwhile', async (_what, fault) => {
    const { unhealthy, restarts } = await scenario((h) => h.storeFault(fault));
    expect(unhealthy.some((u) => u)).toBe(true);
    // A failed write is a PersistenceError: data for the committer, not a crash of persistence
    // (which runs with onUnexpectedError: 'crash', docs/architecture.md "Which errors crash").
    expect(restarts.persistence).toBe(0);
  }, 120_000);

  it.each([
    ['before it writes', 'die'],
    ['after the commit, before it answers', 'exit'],
  ] as const)('the persistence thread dying %s loses nothing and runs nothing twice', async (_when, mode) => {
    await scenario(async (h) => {
      await h.storeFault({ mode, when: 'fires' });
      await h.storeFault({ mode, when: 'finishes' });
    });
  }, 120_000);

  it('an executor crash at start: the runs it had are interrupted and retried, the jobs keep firing', async () => {
    const { ledger } = await scenario((h) => h.executorFault({ mode: 'crash' }), { retries: 1 });
    const interrupted = [...ledger.finished.values()].filter((r) => r.status === 'interrupted');
    expect(interrupted.length).toBeGreaterThan(0);
    // Each interrupted run got its retry, which finished.
    for (const r of interrupted) {
      expect([...ledger.finished.values()].some((x) => x.trigger === 'retry' && x.attempt === 2 && x.jobId === r.jobId)).toBe(true);
    }
  }, 120_000);

  it('asks that time out (a slow commit, a slow executor) are retried; nothing runs twice', async () => {
    const dir = tempDir();
    const s = await createScheduler({ dataDir: dir, clock: new SystemClock(), maxConcurrentJobs: 8, stepTimeoutMs: 300 });
    try {
      const ledger = new Ledger(s);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await s.addJob({ name: `t${i}`, schedule: 'every 1s', command: 'true' })).id);
      const hooks = testHooksOf(s);
      await new Promise((r) => setTimeout(r, 1500));
      // Commits that land after their ask timed out (the retry finds its own slots), then a slow hand-over.
      await hooks.storeFault({ mode: 'slow', ms: 800, times: 2, when: 'fires' });
      await new Promise((r) => setTimeout(r, 2500));
      await hooks.executorFault({ mode: 'slow', ms: 800 });
      await new Promise((r) => setTimeout(r, 4000));
      await s.shutdown({ graceMs: 5000 });
      const { jobs, unfinished } = await readStore(dir, ids);
      expect(unfinished).toBe(0);
      for (const id of ids) {
        const stored = jobs.get(id)!;
        expect(checkSlots(stored, 1000)).toEqual([]);
        expect(stored.slots.length).toBeGreaterThanOrEqual(6);
        // Still firing at the end.
        expect(stored.runs.slice(-2).some((r) => r.status === 'succeeded')).toBe(true);
        expect(stored.runs.every((r) => FINAL_RUN_STATUSES.includes(r.status) || stored.parked.has(r.id))).toBe(true);
      }
      for (const [slot, outcomes] of ledger.slotOutcomes) expect([slot, outcomes.length]).toEqual([slot, 1]);
      ledger.stop();
    } finally {
      await s.shutdown({ graceMs: 0 });
      removeDir(dir);
    }
  }, 60_000);
});
