import { MAX_TIMER_MS, VirtualClock } from '../../src/runtime/clock';
import { Timeline, type TimelineEntry } from '../../src/actors/queue/timeline';
import { TimelineTimer, type TimelineTimerOptions } from '../../src/actors/queue/timer';

const START = Date.parse('2030-01-01T00:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;

type Log = Array<{ kind: 'due'; at: number; now: number; jobId: string } | { kind: 'jump'; delta: number; now: number }>;

function setup(opts: Partial<TimelineTimerOptions> = {}) {
  const clock = new VirtualClock(START);
  const timeline = new Timeline();
  const log: Log = [];
  const timer = new TimelineTimer({
    clock,
    timeline,
    onDue: (due) => {
      for (const e of due) log.push({ kind: 'due', at: e.at, now: clock.now(), jobId: e.jobId });
    },
    ...opts,
  });
  return { clock, timeline, timer, log };
}

/**
 * A miniature scheduler: jobs that fire every minute on the minute. On a clock jump it recomputes
 * every job's next slot from the new wall time, as the real scheduler does.
 */
function everyMinute(jobs: string[], opts: Partial<TimelineTimerOptions> = {}) {
  const clock = new VirtualClock(START);
  const timeline = new Timeline();
  const log: Log = [];
  const nextSlot = (after: number): number => Math.floor(after / MIN) * MIN + MIN;
  const recompute = (): void => {
    for (const j of jobs) timeline.upsert(j, nextSlot(clock.now()));
  };
  const timer: TimelineTimer = new TimelineTimer({
    clock,
    timeline,
    onDue: (due: TimelineEntry[]) => {
      for (const e of due) {
        log.push({ kind: 'due', at: e.at, now: clock.now(), jobId: e.jobId });
        timeline.upsert(e.jobId, e.at + MIN);
      }
      timer.reschedule();
    },
    onClockJump: (delta) => {
      log.push({ kind: 'jump', delta, now: clock.now() });
      recompute();
    },
    ...opts,
  });
  recompute();
  timer.start();
  return { clock, timeline, timer, log };
}

const dues = (log: Log) => log.filter((e) => e.kind === 'due') as Array<Extract<Log[number], { kind: 'due' }>>;
const jumps = (log: Log) => log.filter((e) => e.kind === 'jump') as Array<Extract<Log[number], { kind: 'jump' }>>;

describe('TimelineTimer', () => {
  it('fires each entry once, at its time', async () => {
    const { clock, timeline, timer, log } = setup();
    timeline.upsert('a', START + 1000);
    timeline.upsert('b', START + 5000);
    timeline.upsert('c', START + 5000);
    timeline.upsert('d', START + 95_000);
    timer.start();
    await clock.advance(200_000);
    expect(dues(log)).toEqual([
      { kind: 'due', at: START + 1000, now: START + 1000, jobId: 'a' },
      { kind: 'due', at: START + 5000, now: START + 5000, jobId: 'b' },
      { kind: 'due', at: START + 5000, now: START + 5000, jobId: 'c' },
      { kind: 'due', at: START + 95_000, now: START + 95_000, jobId: 'd' },
    ]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('with a lead, hands each entry over that long before its time (its at unchanged); setLead re-arms', async () => {
    const { clock, timeline, timer, log } = setup({ leadMs: 300 });
    timeline.upsert('a', START + 1000);
    timeline.upsert('b', START + 5000);
    timer.start();
    await clock.advance(2000);
    expect(dues(log)).toEqual([{ kind: 'due', at: START + 1000, now: START + 700, jobId: 'a' }]);
    timer.setLead(800);
    await clock.advance(3000);
    expect(dues(log)[1]).toEqual({ kind: 'due', at: START + 5000, now: START + 4200, jobId: 'b' });
    expect(() => timer.setLead(-1)).toThrow(/leadMs/);
  });

  it('keeps a single timer armed however many entries there are', async () => {
    const { clock, timeline, timer } = setup();
    timer.start();
    for (let i = 0; i < 1000; i++) {
      timeline.upsert(`j${i}`, START + 1000 + i);
      timer.reschedule();
    }
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerIn()).toBe(1000);
  });

  it('re-arms on reschedule when the earliest entry moves, is added or removed', async () => {
    const { clock, timeline, timer, log } = setup();
    timeline.upsert('late', START + 10_000);
    timer.start();
    await clock.advance(1000);
    timeline.upsert('early', START + 3000); // earlier than the armed one
    timer.reschedule();
    await clock.advance(2000);
    expect(dues(log).map((e) => [e.jobId, e.now - START])).toEqual([['early', 3000]]);

    timeline.upsert('late', START + 20_000); // moved later: must not fire at 10 s
    timer.reschedule();
    await clock.advance(10_000);
    expect(dues(log)).toHaveLength(1);
    timeline.remove('late');
    timer.reschedule();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(20_000);
    expect(dues(log)).toHaveLength(1);
  });

  it('splits a wait beyond 2^31-1 ms and fires an entry a year away at its time', async () => {
    const year = 365 * 24 * HOUR;
    const { clock, timeline, timer, log } = setup({ maxWaitMs: MAX_TIMER_MS });
    timeline.upsert('yearly', START + year);
    timer.start();
    expect(clock.nextTimerIn()).toBe(MAX_TIMER_MS);
    await clock.advance(year - 1);
    expect(dues(log)).toHaveLength(0);
    await clock.advance(1);
    expect(dues(log)).toEqual([{ kind: 'due', at: START + year, now: START + year, jobId: 'yearly' }]);
  });

  it('caps each wait at maxWaitMs (30 s by default) and still fires a day away on time', async () => {
    const day = 24 * HOUR;
    const { clock, timeline, timer, log } = setup();
    timeline.upsert('daily', START + day);
    timer.start();
    expect(clock.nextTimerIn()).toBe(30_000);
    await clock.advance(day - 1);
    expect(dues(log)).toHaveLength(0);
    await clock.advance(1);
    expect(dues(log).map((e) => e.now)).toEqual([START + day]);
    expect(() => setup({ maxWaitMs: MAX_TIMER_MS + 1 })).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'maxWaitMs' }));
    expect(() => setup({ jumpThresholdMs: 0 })).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'jumpThresholdMs' }));
  });

  it('reports a forward wall-clock jump once, before handing entries over: no burst', async () => {
    const { clock, log } = everyMinute(['a', 'b', 'c']);
    await clock.advance(2 * MIN); // two normal slots each
    expect(dues(log)).toHaveLength(6);
    const jumpAt = clock.now();
    clock.jump(HOUR); // NTP step forward: 60 slots of each job "passed" in no time
    await clock.advance(3 * MIN);

    // The armed (capped, 30 s) wait wakes first and sees the wall clock an hour ahead of monotonic time.
    expect(jumps(log)).toEqual([{ kind: 'jump', delta: HOUR, now: jumpAt + HOUR + 30_000 }]);
    const after = log.slice(log.findIndex((e) => e.kind === 'jump'));
    expect(after[0]!.kind).toBe('jump'); // nothing handed over between the jump and its report
    const fired = dues(after);
    // No slot inside the skipped hour fires; each job fires once per minute afterwards, on the minute.
    for (const j of ['a', 'b', 'c']) {
      expect(fired.filter((e) => e.jobId === j).map((e) => [e.at, e.now])).toEqual(
        [3, 4, 5].map((m) => [jumpAt + HOUR + (m - 2) * MIN, jumpAt + HOUR + (m - 2) * MIN]));
    }
  });

  it('reports a backward jump once and keeps firing (no silent stall)', async () => {
    const { clock, log } = everyMinute(['a']);
    await clock.advance(MIN);
    expect(dues(log)).toHaveLength(1);
    clock.jump(-HOUR);
    const back = START + MIN - HOUR; // the wall clock right after the step
    await clock.advance(2 * MIN + 1);
    // Noticed at the next (capped, 30 s) wake; the job's next slot is recomputed from the new wall time.
    expect(jumps(log)).toEqual([{ kind: 'jump', delta: -HOUR, now: back + 30_000 }]);
    // Without the recompute the job would wait an hour for its old slot; it fires on the next minutes.
    expect(dues(log).slice(1).map((e) => [e.at, e.now])).toEqual([[back + MIN, back + MIN], [back + 2 * MIN, back + 2 * MIN]]);
  });

  it('does not report drift under the threshold, nor a jump while nothing was waiting', async () => {
    const { clock, timeline, timer, log } = setup({ onClockJump: (d) => void log.push({ kind: 'jump', delta: d, now: 0 }) });
    timeline.upsert('a', START + 60_000);
    timer.start();
    clock.jump(2000); // below the 5 s default
    await clock.advance(60_000);
    clock.jump(HOUR); // idle: the timeline is empty
    timeline.upsert('b', clock.now() + 1000);
    timer.reschedule();
    await clock.advance(1000);
    expect(jumps(log)).toHaveLength(0);
    expect(dues(log).map((e) => e.jobId)).toEqual(['a', 'b']);
  });

  it('after a suspend/resume delivers each due entry once, without a jump report', async () => {
    const { clock, timeline, timer, log } = setup({ onClockJump: (d) => void log.push({ kind: 'jump', delta: d, now: 0 }) });
    timeline.upsert('a', START + 10 * MIN);
    timeline.upsert('b', START + 20 * MIN);
    timeline.upsert('c', START + 3 * HOUR);
    timer.start();
    await clock.sleep(HOUR);
    expect(dues(log).map((e) => [e.jobId, e.now])).toEqual([['a', START + HOUR], ['b', START + HOUR]]);
    await clock.advance(3 * HOUR);
    expect(dues(log).map((e) => e.jobId)).toEqual(['a', 'b', 'c']);
    expect(jumps(log)).toHaveLength(0);
  });

  it('waits for an async onClockJump before handing over what is still due', async () => {
    const order: string[] = [];
    const clock = new VirtualClock(START);
    const timeline = new Timeline();
    const timer = new TimelineTimer({
      clock,
      timeline,
      onDue: (due) => order.push(...due.map((e) => `due:${e.jobId}`)),
      onClockJump: async () => {
        order.push('jump:start');
        await new Promise<void>((r) => setImmediate(r));
        timeline.upsert('stale', clock.now() + MIN); // recomputed: no longer due
        order.push('jump:end');
      },
    });
    timeline.upsert('stale', START + 30_000);
    timeline.upsert('fresh', START + 30_000 + HOUR);
    timer.start();
    clock.jump(HOUR);
    timer.reschedule(); // ignored safely while armed
    await clock.advance(30_000);
    expect(order).toEqual(['jump:start', 'jump:end', 'due:fresh']);
    await clock.advance(MIN);
    expect(order).toEqual(['jump:start', 'jump:end', 'due:fresh', 'due:stale']);
  });

  it('hands over at most maxBatch entries per call, the rest on the next turn', async () => {
    const batches: number[] = [];
    const { clock, timeline, timer } = setup({ maxBatch: 2, onDue: (d) => void batches.push(d.length) });
    for (let i = 0; i < 5; i++) timeline.upsert(`j${i}`, START + 1000);
    timer.start();
    await clock.advance(1000);
    expect(batches).toEqual([2, 2, 1]);
    expect(clock.now()).toBe(START + 1000);
  });

  it('survives a throwing onDue (reported to onError) and stops cleanly', async () => {
    const errors: unknown[] = [];
    const seen: string[] = [];
    const { clock, timeline, timer } = setup({
      onDue: (d) => {
        seen.push(...d.map((e) => e.jobId));
        if (d[0]!.jobId === 'boom') throw new Error('handler failed');
      },
      onError: (e) => void errors.push(e),
    });
    timeline.upsert('boom', START + 1000);
    timeline.upsert('next', START + 2000);
    timeline.upsert('never', START + 5000);
    timer.start();
    await clock.advance(2000);
    expect(seen).toEqual(['boom', 'next']);
    expect(errors).toHaveLength(1);
    timer.stop();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(10_000);
    expect(seen).toEqual(['boom', 'next']);
    expect(timeline.size).toBe(1);
  });
});
