/**
 * A busy scheduler is not a scheduler that was down: a slot handled after its job's next slots
 * passed (the scheduler's mailbox held 3.5 s by a slow `slotsDue`, injected) must not make an
 * `every 1s` job with catch-up `none` lose every slot of the spell — the newest due slot runs as
 * scheduled, the ones it superseded are recorded `missed` with the reason. (Before, all of them
 * were missed: under sustained load a per-second `none` job never ran again.) Real clock (the
 * lateness is real time), real LMDB, real processes.
 */
import { filter, firstValueFrom } from 'rxjs';
import { createScheduler, testHooksOf } from '../../src/scheduler';
import { checkSlots, readStore } from '../helpers/ledger';
import { removeDir, tempDir } from '../helpers/scheduler';

describe('a slot handled late because the scheduler was busy', () => {
  let dir = '';
  beforeEach(() => { dir = tempDir(); });
  afterEach(() => removeDir(dir));

  it("catch-up 'none': the newest due slot still runs, the superseded ones are missed", async () => {
    const s = await createScheduler({ dataDir: dir });
    let id = '';
    try {
      id = (await s.addJob({ name: 'tick', schedule: 'every 1s', command: 'true', catchUp: 'none' })).id;
      // Two ordinary runs first, so the job's timeline is armed and the path warm.
      let finished = 0;
      await firstValueFrom(s.events$.pipe(filter((e) => e.type === 'run.finished' && e.run.jobId === id && ++finished >= 2)));
      testHooksOf(s).throwIn('scheduler', 'slotsDue', 1, { delayMs: 3500 });
      await firstValueFrom(s.events$.pipe(filter((e) => e.type === 'slot.recorded' && e.slot.jobId === id
        && e.slot.outcome === 'missed' && /^late: /.test(e.slot.reason ?? ''))));
      // And the job keeps firing after the spell.
      finished = 0;
      await firstValueFrom(s.events$.pipe(filter((e) => e.type === 'run.finished' && e.run.jobId === id && ++finished >= 2)));
    } finally {
      await s.shutdown({ graceMs: 5000 });
    }
    const { jobs } = await readStore(dir, [id]);
    const stored = jobs.get(id)!;
    expect(checkSlots(stored, 1000)).toEqual([]);
    const late = stored.slots.filter((x) => x.outcome === 'missed' && /^late: /.test(x.reason ?? ''));
    expect(late.length).toBeGreaterThanOrEqual(1);
    expect(late.every((x) => /a newer slot ran/.test(x.reason!))).toBe(true);
    // The late pop decided at `handledAt`; the newest slot due then ran (fired, at or before it)
    // rather than the job waiting for its next slot after the spell.
    const handledAt = Math.max(...late.map((x) => Date.parse(x.recordedAt)));
    const lastLate = Math.max(...late.map((x) => Date.parse(x.at)));
    const ranInSpell = stored.slots.filter((x) => x.outcome === 'fired' && Date.parse(x.at) > lastLate && Date.parse(x.at) <= handledAt);
    expect(ranInSpell).toHaveLength(1);
    const run = stored.runs.find((r) => r.id === ranInSpell[0]!.runId)!;
    expect([run.trigger, run.status]).toEqual(['schedule', 'succeeded']);
  }, 60_000);
});
