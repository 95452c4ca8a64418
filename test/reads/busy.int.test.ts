/**
 * Reads never queue behind the scheduler's work: with hundreds of messages waiting in the scheduler
 * actor's mailbox, `listJobs`, `getJob`, `history`, `why`, `stats` and `health` answer at once from
 * the store's snapshot, while a call that goes through the mailbox waits its turn.
 */
import { useSchedulers } from '../helpers/scheduler';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const BURST = 200;

describe('reads beside a busy scheduler', () => {
  const fixture = useSchedulers();

  it('answer while a burst of runs fills the scheduler mailbox', async () => {
    const { s, runs } = await fixture.open(T0, { maxQueuedJobs: 10_000 });
    await s.addJob({ name: 'work', schedule: 'never', command: 'true', overlap: 'allow' });
    await s.addJob({ name: 'other', schedule: 'every 1h', command: 'true' });
    await s.runNow('work');
    await runs.wait(1);

    let fired = 0;
    // Each runNow is a message of its own in the scheduler's mailbox, each with a durable write.
    const burst = Array.from({ length: BURST }, () => s.runNow('work').then(() => fired++));
    // A mailbox-bound call sent after the burst: it can only answer after all of it.
    let pausedAfter = -1;
    const pause = s.pauseJob('other').then(() => (pausedAfter = fired));

    const answeredAt: Record<string, number> = {};
    const note = <T>(what: string, p: Promise<T>): Promise<T> => p.then((v) => ((answeredAt[what] = fired), v));
    const [page, job, history, why, stats, health] = await Promise.all([
      note('listJobs', s.listJobs({ limit: 10 })),
      note('getJob', s.getJob('work')),
      note('history', s.history('work', { limit: 5 })),
      note('why', s.why('work')),
      note('stats', s.stats()),
      note('health', s.health()),
    ]);
    // Every read answered before the burst was through (in fact before any of it).
    for (const [what, n] of Object.entries(answeredAt)) expect({ what, n: n < BURST }).toEqual({ what, n: true });
    expect(page.jobs.map((j) => j.name)).toEqual(['work', 'other']);
    expect(job.lastRun).not.toBeNull();
    expect(history.length).toBeGreaterThanOrEqual(1);
    expect(why.job.name).toBe('work');
    expect(stats.runs.succeeded).toBeGreaterThanOrEqual(1);
    expect(health.healthy).toBe(true);

    await Promise.all(burst);
    await pause;
    expect(pausedAfter).toBe(BURST);
    await runs.wait(BURST + 1, 120_000);
    expect((await s.stats()).runs.succeeded).toBe(BURST + 1);
  }, 180_000);
});
