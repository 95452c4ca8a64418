/**
 * No loss on a full mailbox (issue 8): the scheduler's mailbox bound (3 here instead of 100,000)
 * is kept full by callers' asks while jobs fire. The owed messages — the queue's `slotsDue`, the
 * executor's `runsFinished`, the commits' `committed` — pass the bound (src/scheduler-tree.ts
 * OWED); the callers' asks beyond it are refused with MAILBOX_FULL. Every slot still has exactly
 * one outcome, the last one fired and ran, and no run is left unfinished. Virtual clock, real
 * LMDB, real processes.
 */
import { testHooksOf } from '../../src/scheduler';
import { checkSlots, Ledger, readStore } from '../helpers/ledger';
import { useSchedulers } from '../helpers/scheduler';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const JOBS = 10;
const STEPS = 8;

describe('a full scheduler mailbox', () => {
  const fixture = useSchedulers();

  it('refuses callers (MAILBOX_FULL) but never a popped slot, a finished run or a commit outcome', async () => {
    const { s, clock } = await fixture.open(T0, { maxConcurrentJobs: 16, mailboxSize: 3 } as object);
    const ledger = new Ledger(s);
    const hooks = testHooksOf(s);
    const ids: string[] = [];
    // One at a time: concurrent adds would be one message anyway, and the bound is tiny.
    for (let i = 0; i < JOBS; i++) ids.push((await s.addJob({ name: `j${i}`, schedule: 'every 1s', command: 'true' })).id);
    let refused = 0;
    let answered = 0;
    for (let i = 0; i < STEPS; i++) {
      // Callers fill the mailbox right when the timer pops every job's slot.
      const asks = Array.from({ length: 20 }, () => hooks.commitStats().then(
        () => { answered++; },
        (e: { code?: string }) => { if (e.code === 'MAILBOX_FULL') refused++; else throw e; },
      ));
      await clock.advance(1000);
      await Promise.all(asks);
      await ledger.quiet(() => clock.now());
    }
    const end = clock.now();
    await s.shutdown({ graceMs: 5000 });
    // The bound did refuse (so it was full when slots were popped and runs finished).
    expect(refused).toBeGreaterThan(0);
    expect(answered).toBeGreaterThan(0);
    const { jobs, unfinished } = await readStore(fixture.dir(), ids);
    expect(unfinished).toBe(0);
    for (const id of ids) {
      const stored = jobs.get(id)!;
      expect(checkSlots(stored, 1000)).toEqual([]);
      expect(stored.slots).toHaveLength(STEPS);
      expect(stored.slots[0]!.at).toBe(new Date(T0 + 1000).toISOString());
      expect(Date.parse(stored.slots[STEPS - 1]!.at)).toBe(end);
      expect(stored.runs.filter((r) => r.status === 'succeeded')).toHaveLength(STEPS);
    }
    for (const [slot, outcomes] of ledger.slotOutcomes) expect([slot, outcomes.length]).toEqual([slot, 1]);
    ledger.stop();
  }, 120_000);
});
