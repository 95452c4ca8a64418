/**
 * A backward clock step by a whole number of a job's interval (an `every 1m` job, the clock steps
 * back exactly 2 minutes; `every 1h`, exactly 1 hour). Intervals count elapsed time, so the job
 * keeps one run per interval of real time; but its new slots then fall on the wall times of slots
 * it already ran. Those keys are taken in the store — by slots of the OLD clock frame, which are
 * other slots (clock-frame.ts): they must not be deduped (the job would silently skip k
 * intervals). Live, and across a restart right after the step.
 */
import { filter, firstValueFrom } from 'rxjs';
import type { Scheduler } from '../../src/api';
import type { Slot } from '../../src/model/run';
import type { VirtualClock } from '../../src/testing';
import { useSchedulers, type OpenedScheduler } from '../helpers/scheduler';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (ms: number): string => new Date(ms).toISOString();

/** Steps the wall clock and waits until the scheduler handled it (the timer notices at its next wake, ≤ 30 s). */
async function step(s: Scheduler, clock: VirtualClock, ms: number): Promise<void> {
  const jumped = firstValueFrom(s.events$.pipe(filter((e) => e.type === 'clock.jumped')));
  clock.jump(ms);
  await clock.advance(30_000);
  await jumped;
}

/** Every slot outcome recorded from now on. */
function slotsOf(s: Scheduler): Slot[] {
  const out: Slot[] = [];
  s.events$.subscribe((e) => { if (e.type === 'slot.recorded') out.push(e.slot); });
  return out;
}

describe('a backward clock step by a whole number of intervals', () => {
  const fixture = useSchedulers();

  it.each([
    ['every 1 minute', MIN, 2],
    ['every 1 hour', HOUR, 1],
  ] as const)('%s, stepped back %i ms x %i: one run per interval of elapsed time, none deduped; also after a restart', async (schedule, every, k) => {
    let o: OpenedScheduler = await fixture.open(T0);
    await o.s.addJob({ name: 'iv', schedule, command: 'true' });
    // Five slots fired: T0 + 1..5 intervals.
    for (let n = 1; n <= 5; n++) {
      await o.clock.advance(every);
      await o.runs.wait(n);
    }
    await o.clock.advance(1000);
    await step(o.s, o.clock, -k * every);
    // The next slot is one interval after the last run, in elapsed time: k intervals earlier on the wall.
    expect((await o.s.getJob('iv')).nextRunAt).toBe(iso(T0 + (6 - k) * every));
    let recorded = slotsOf(o.s);
    const scheduled: string[] = [];
    const follow = (x: OpenedScheduler): void => {
      x.s.events$.subscribe((e) => { if (e.type === 'run.finished') scheduled.push(e.run.scheduledAt); });
    };
    follow(o);
    // Live: k + 1 intervals of elapsed time, k + 1 runs — the first k on wall times already used.
    // (Each advance ends 1 s past a slot, as the step above did.)
    const through = async (x: OpenedScheduler, first: number, before: number): Promise<void> => {
      for (let i = 0; i <= k; i++) {
        await x.clock.advance(first + i * every + 1000 - x.clock.now());
        await x.runs.wait(before + i + 1);
      }
    };
    await through(o, T0 + (6 - k) * every, 5);
    expect(scheduled).toEqual(Array.from({ length: k + 1 }, (_, i) => iso(T0 + (6 - k + i) * every)));
    expect(recorded.map((sl) => sl.outcome)).toEqual(Array(k + 1).fill('fired'));
    // Step back again by the same amount, then restart at once: the restarted scheduler must fire
    // on keys taken twice over, by slots of two older frames.
    await step(o.s, o.clock, -k * every);
    const at = o.clock.now();
    const wallNext = T0 + (7 - k) * every;
    expect((await o.s.getJob('iv')).nextRunAt).toBe(iso(wallNext));
    await o.s.shutdown({ graceMs: 0 });
    o = await fixture.open(at);
    expect((await o.s.getJob('iv')).nextRunAt).toBe(iso(wallNext));
    recorded = slotsOf(o.s);
    scheduled.length = 0;
    follow(o);
    await through(o, wallNext, 0);
    expect(scheduled).toEqual(Array.from({ length: k + 1 }, (_, i) => iso(wallNext + i * every)));
    expect(recorded.map((sl) => sl.outcome)).toEqual(Array(k + 1).fill('fired'));
    // In all: one run per interval of elapsed time, 5 + 2 (k + 1) of them, each succeeded.
    const history = await o.s.history('iv', { limit: 100 });
    expect(history.filter((r) => r.status === 'succeeded')).toHaveLength(5 + 2 * (k + 1));
  }, 180_000);

  it('the same slot in the same clock frame is still never run twice (a restart with nothing missed)', async () => {
    const a = await fixture.open(T0);
    await a.s.addJob({ name: 'iv', schedule: 'every 1 minute', command: 'true' });
    await a.clock.advance(MIN);
    await a.runs.wait(1);
    await step(a.s, a.clock, -2 * MIN);
    await a.clock.advance(MIN);
    await a.runs.wait(2);
    const at = a.clock.now();
    await a.s.shutdown({ graceMs: 0 });
    const b = await fixture.open(at);
    const recorded = slotsOf(b.s);
    await b.clock.advance(MIN);
    await b.runs.wait(1);
    await b.clock.advance(MIN);
    await b.runs.wait(2);
    await b.clock.advance(1000);
    expect(recorded.map((sl) => sl.outcome)).toEqual(['fired', 'fired']);
    const history = await b.s.history('iv', { limit: 100 });
    // Four slots of elapsed time, each once.
    expect(new Set(history.map((r) => r.id)).size).toBe(4);
    expect(history.every((r) => r.status === 'succeeded')).toBe(true);
  }, 120_000);
});
