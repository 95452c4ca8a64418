/**
 * Time that misbehaves, end to end on a virtual clock: DST in the job's zone, wall-clock jumps,
 * timers beyond setTimeout's limit, jitter, and no slot firing twice across a restart.
 */
import { slotCount } from '../../src/model/run';
import { useSchedulers } from '../helpers/scheduler';

const H = 3_600_000;
const MIN = 60_000;

describe('time that misbehaves', () => {
  const fixture = useSchedulers();
  const open = fixture.open;

  it('a daily job in New York runs once per day across spring-forward (its 02:30 falls in the gap)', async () => {
    const { s, clock, runs } = await open(Date.parse('2027-03-12T12:00:00Z'));
    await s.addJob({ name: 'daily', schedule: 'every day at 02:30', timezone: 'America/New_York', command: 'true' });
    // Day by day: each run (a real process) finishes before virtual time reaches the next slot.
    for (let d = 1; d <= 4; d++) {
      await clock.advance(24 * H);
      await runs.wait(d);
    }
    const done = runs.runs;
    expect(done.map((r) => r.scheduledAt)).toEqual([
      '2027-03-13T07:30:00.000Z', // 02:30 EST
      '2027-03-14T07:30:00.000Z', // 02:30 does not exist: 03:30 EDT
      '2027-03-15T06:30:00.000Z', // 02:30 EDT
      '2027-03-16T06:30:00.000Z',
    ]);
  }, 120_000);

  it('a daily job in Berlin runs once on the day an hour repeats (fall-back)', async () => {
    const { s, clock, runs } = await open(Date.parse('2027-10-30T12:00:00Z'));
    await s.addJob({ name: 'daily', schedule: '30 2 * * *', timezone: 'Europe/Berlin', command: 'true' });
    for (let d = 1; d <= 3; d++) {
      await clock.advance(24 * H);
      await runs.wait(d);
    }
    const done = runs.runs;
    expect(done.map((r) => r.scheduledAt)).toEqual([
      '2027-10-31T00:30:00.000Z', // 02:30 CEST, the first of the two 02:30s
      '2027-11-01T01:30:00.000Z', // 02:30 CET
      '2027-11-02T01:30:00.000Z',
    ]);
    expect(await s.history('daily', { limit: 100 })).toHaveLength(3);
  }, 120_000);

  it('a forward clock step: calendar slots skipped by it follow catch-up; intervals keep elapsed time, no burst', async () => {
    const T0 = Date.parse('2030-01-01T00:00:00Z');
    const { s, clock, runs } = await open(T0);
    await s.addJob({ name: 'cron', schedule: '*/10 * * * *', timezone: 'UTC', command: 'true' });
    await s.addJob({ name: 'iv', schedule: 'every 5m', command: 'true' });
    // Runs are real processes: let each slot's run finish before the next slot (overlap is 'skip').
    await clock.advance(5 * MIN); // iv at +5
    await runs.wait(1);
    await clock.advance(5 * MIN); // cron at :10, iv at +10
    await runs.wait(3);
    clock.jump(H); // NTP steps the wall clock an hour ahead
    await clock.advance(MIN); // the timer wakes, notices the jump
    await runs.wait(4);
    const cron = await s.history('cron', { limit: 100 });
    expect(cron.map((r) => r.trigger).sort()).toEqual(['catch-up', 'schedule']);
    const why = await s.why('cron');
    // The 5 skipped slots as ONE range record (Slot.firstAt/count), :20 to :60.
    const missed = why.slots.filter((sl) => sl.outcome === 'missed');
    expect(missed.map((sl) => [sl.firstAt, sl.at, slotCount(sl)]))
      .toEqual([['2030-01-01T00:20:00.000Z', '2030-01-01T01:00:00.000Z', 5]]);
    // The interval saw only 1 minute of real time pass: no catch-up, next fire in elapsed time.
    expect(await s.history('iv', { limit: 100 })).toHaveLength(2);
    expect((await s.getJob('iv')).nextRunAt).toBe(new Date(T0 + 15 * MIN + H).toISOString());
  });

  it('a backward clock step neither repeats slots already run nor stalls an interval job', async () => {
    const T0 = Date.parse('2030-01-01T00:00:00Z');
    const { s, clock, runs } = await open(T0);
    await s.addJob({ name: 'cron', schedule: '* * * * *', timezone: 'UTC', command: 'true' });
    await s.addJob({ name: 'iv', schedule: 'every 1m', command: 'true' });
    for (let m = 1; m <= 3; m++) {
      await clock.advance(MIN);
      await runs.wait(2 * m);
    }
    clock.jump(-H);
    for (let m = 1; m <= 5; m++) {
      await clock.advance(MIN);
      await runs.wait(6 + m);
    }
    const cron = await s.history('cron', { limit: 100 });
    expect(new Set(cron.map((r) => r.scheduledAt)).size).toBe(cron.length);
    expect(cron).toHaveLength(3); // its next new slot is after 00:03 wall time, an hour away now
    expect((await s.getJob('cron')).nextRunAt).toBe(new Date(T0 + 4 * MIN).toISOString());
    expect(await s.history('iv', { limit: 100 })).toHaveLength(8);
  });

  it('a one-time job more than 2^31-1 ms away fires at its time', async () => {
    const { s, clock, runs } = await open(Date.parse('2030-01-01T00:00:00Z'));
    await s.addJob({ name: 'far', schedule: 'at 2030-03-01T00:00:00Z', command: 'true' });
    await clock.advance(59 * 24 * H - MIN);
    expect(runs.runs).toHaveLength(0);
    await clock.advance(2 * MIN);
    const [run] = await runs.wait(1);
    expect(run!.scheduledAt).toBe('2030-03-01T00:00:00.000Z');
  }, 120_000);

  it('jitter delays each fire within its bound, deterministically, and keeps the nominal slot', async () => {
    const T0 = Date.parse('2030-01-01T00:00:00Z');
    const { s, clock, runs } = await open(T0);
    await s.addJob({ name: 'j', schedule: '@hourly', timezone: 'UTC', command: 'true', jitterMs: 10 * MIN });
    await clock.advance(H - 1);
    expect(runs.runs).toHaveLength(0);
    await clock.advance(10 * MIN + 1);
    const [run] = await runs.wait(1);
    expect(run!.scheduledAt).toBe(new Date(T0 + H).toISOString());
    expect(Date.parse(run!.startedAt!)).toBeGreaterThanOrEqual(T0 + H);
    expect(Date.parse(run!.startedAt!)).toBeLessThan(T0 + H + 10 * MIN);
  });

  it('a slot that fired before a restart does not fire again after it', async () => {
    const T0 = Date.parse('2030-01-01T00:00:00Z');
    const a = await open(T0);
    await a.s.addJob({ name: 'm', schedule: '* * * * *', timezone: 'UTC', command: 'true' });
    await a.clock.advance(MIN);
    await a.runs.wait(1);
    await a.s.shutdown();
    const b = await open(T0 + MIN + 1000);
    await b.clock.advance(30_000);
    expect(await b.s.history('m')).toHaveLength(1);
    await b.clock.advance(30_000);
    await b.runs.wait(1);
    const history = await b.s.history('m');
    expect(history.map((r) => r.scheduledAt)).toEqual([new Date(T0 + 2 * MIN).toISOString(), new Date(T0 + MIN).toISOString()]);
  });
});
