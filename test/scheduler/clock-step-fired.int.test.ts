/**
 * A clock step with interval jobs that have FIRED: their watermark is derived from their newest slot
 * record (fire-layout.ts), and since schema 6 that record carries the clock offset it was written
 * at (clock-frame.ts), so the step is still ONE record — no state per fired job. Checked through
 * what a user sees (each slot once, the next one where the step put it) and the store's derived
 * watermark, across graceful restarts and `kill -9` of a real child at each point: step record not
 * durable, durable, durable with the next fires after it. And the backward fence: after a backward
 * step, slots keyed below older ones still give the right watermark.
 */
import { filter, firstValueFrom } from 'rxjs';
import { Store } from '../../src/actors/persistence/store';
import { testHooksOf } from '../../src/scheduler';
import type { Scheduler } from '../../src/api';
import type { VirtualClock } from '../../src/testing';
import type { Slot } from '../../src/model/run';
import { useSchedulers } from '../helpers/scheduler';
import { slotsPerJob, stepThenKill } from '../helpers/clock-step';
import { until } from '../helpers/until';

const MIN = 60_000;
const STEP = 3 * MIN;
const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const JOBS = 20;
const iso = (ms: number): string => new Date(ms).toISOString();

/** Steps the wall clock and waits until the scheduler handled it; returns the records the step's commits wrote. */
async function step(s: Scheduler, clock: VirtualClock, ms: number): Promise<number> {
  const hooks = testHooksOf(s);
  const before = (await hooks.commitStats()).records;
  const jumped = firstValueFrom(s.events$.pipe(filter((e) => e.type === 'clock.jumped')));
  clock.jump(ms);
  await clock.advance(30_000); // the queue's timer notices the step at its next wake (capped at 30 s)
  await jumped;
  return (await hooks.commitStats()).records - before;
}

/** Each job's derived watermark as the store reads it at rest. */
async function storedWatermarks(dir: string): Promise<string[]> {
  const store = await Store.open({ dataDir: dir, readOnly: true });
  try {
    return store.listJobsPage(null, 1000).entries.map((e) => store.getScheduleState(e.job.id)?.lastSlotAt ?? 'none');
  } finally {
    await store.close();
  }
}

describe('a clock step after interval jobs fired', () => {
  const fixture = useSchedulers();

  it.each([STEP, -STEP])('a step of %d ms writes no state for fired jobs; a restart fires where the step put them', async (stepMs) => {
    const { s, clock, runs } = await fixture.open(T0);
    for (let i = 0; i < JOBS; i++) await s.addJob({ name: `iv${i}`, schedule: 'every 10 minutes', command: 'true' });
    await clock.advance(10 * MIN + 1000);
    await runs.wait(JOBS);
    await clock.advance(1000); // the runs' final records committed
    // The step is the clock record alone: no schedule state per fired job.
    expect(await step(s, clock, stepMs)).toBe(0);
    for (const j of await s.listJobs()) expect({ name: j.name, next: j.nextRunAt }).toEqual({ name: j.name, next: iso(T0 + 20 * MIN + stepMs) });
    const at = clock.now();
    await s.shutdown({ graceMs: 0 });
    // The store derives each watermark from the job's slot, moved by the step.
    expect(await storedWatermarks(fixture.dir())).toEqual(Array(JOBS).fill(iso(T0 + 10 * MIN + stepMs)));
    const again = await fixture.open(at);
    await again.clock.advance(15 * MIN);
    await again.runs.wait(JOBS);
    for (const [name, slots] of await slotsPerJob(again.s)) {
      expect({ name, slots: [...slots].sort() }).toEqual({ name, slots: [`${iso(T0 + 10 * MIN)} fired`, `${iso(T0 + 20 * MIN + stepMs)} fired`] });
    }
  }, 120_000);

  // kill -9 of a real child at each point of a step after the jobs fired ('durable' alone:
  // clock-step.int.test.ts). `unrecorded`: nothing of the step durable, so it reads as if it
  // happened while the scheduler was down (old frame). `after`: the step and the next fires durable.
  it.each([
    ['unrecorded', STEP], ['unrecorded', -STEP], ['after', STEP], ['after', -STEP],
  ] as const)('kill -9 (%s) after a step of %d ms: each slot once, the next one where it belongs', async (mode, stepMs) => {
    await stepThenKill(fixture.dir(), T0, JOBS, mode, ['fired', String(stepMs)]);
    const store = await Store.open({ dataDir: fixture.dir(), readOnly: true });
    const frame = store.clockFrame();
    await store.close();
    expect(frame.seq).toBe(mode === 'unrecorded' ? 0 : 1);
    // Where the child stopped (virtual time): first slot + its runs (2 s), the step, the timer's wake (30 s),
    // and in `after` the next slot's 10 min + 1 s.
    const stoppedAt = T0 + 10 * MIN + 2000 + stepMs + 30_000 + (mode === 'after' ? 10 * MIN + 1000 : 0);
    const { s, clock, runs } = await fixture.open(stoppedAt);
    await clock.advance(15 * MIN);
    await runs.wait(JOBS);
    const expected = mode === 'unrecorded'
      ? [iso(T0 + 10 * MIN), iso(T0 + 20 * MIN)]
      : [iso(T0 + 10 * MIN), iso(T0 + 20 * MIN + stepMs), iso(T0 + 30 * MIN + stepMs)];
    await until('every job has its slots', () => slotsPerJob(s), (m) => [...m.values()].every((v) => v.length >= expected.length), 60_000);
    for (const [name, slots] of await slotsPerJob(s)) {
      expect({ name, slots: [...slots].sort() }).toEqual({ name, slots: expected.map((at) => `${at} fired`) });
    }
    expect(runs.runs.filter((r) => r.status === 'succeeded')).toHaveLength(JOBS);
  }, 180_000);

  it('a slot fired between two steps reads moved by the second one only', async () => {
    const { s, clock, runs } = await fixture.open(T0);
    for (let i = 0; i < 5; i++) await s.addJob({ name: `iv${i}`, schedule: 'every 10 minutes', command: 'true' });
    expect(await step(s, clock, STEP)).toBe(0);
    await clock.advance(13 * MIN - 30_000 + 1000); // the moved first slot, T0 + 13 min
    await runs.wait(5);
    await clock.advance(1000);
    expect(await step(s, clock, -2 * MIN)).toBe(0);
    for (const j of await s.listJobs()) expect(j.nextRunAt).toBe(iso(T0 + 21 * MIN));
    const at = clock.now();
    await s.shutdown({ graceMs: 0 });
    // The slot was recorded at T0 + 13 min in the frame of the first step: now it reads 2 min earlier.
    expect(await storedWatermarks(fixture.dir())).toEqual(Array(5).fill(iso(T0 + 11 * MIN)));
    const again = await fixture.open(at);
    await again.clock.advance(10 * MIN);
    await again.runs.wait(5);
    for (const [name, slots] of await slotsPerJob(again.s)) {
      expect({ name, slots: [...slots].sort() }).toEqual({ name, slots: [`${iso(T0 + 13 * MIN)} fired`, `${iso(T0 + 21 * MIN)} fired`] });
    }
  }, 120_000);

  it('after a backward step, slots keyed below older ones still give the watermark (the fence)', async () => {
    const { s, clock, runs } = await fixture.open(T0);
    for (let i = 0; i < 5; i++) await s.addJob({ name: `m${i}`, schedule: 'every 1 minute', command: 'true', overlap: 'allow' });
    await clock.advance(5 * MIN + 1000); // T0 + 1..5 min fired
    await runs.wait(25);
    // Back 150 s: the slots move to T0 + 30 s + k min; the next two (T0 + 3:30, 4:30) are keyed
    // below the newest old one (T0 + 5:00).
    expect(await step(s, clock, -150_000)).toBe(0);
    await clock.advance(100_000); // from T0 + 3:01 (wall, after the timer's wake) to T0 + 4:41
    await runs.wait(35);
    await clock.advance(1000);
    const at = clock.now();
    await s.shutdown({ graceMs: 0 });
    expect(await storedWatermarks(fixture.dir())).toEqual(Array(5).fill(iso(T0 + 4 * MIN + 30_000)));
    // A restart handles no slot again (none deduped, none missed) and goes on from T0 + 5:30.
    const again = await fixture.open(at);
    const recorded: Slot[] = [];
    again.s.events$.subscribe((e) => { if (e.type === 'slot.recorded') recorded.push(e.slot); });
    await again.clock.advance(50_000); // T0 + 5:31
    await again.runs.wait(5);
    await again.clock.advance(MIN); // T0 + 6:31
    await again.runs.wait(10);
    expect(recorded.filter((sl) => sl.outcome !== 'fired')).toEqual([]);
    for (const [name, slots] of await slotsPerJob(again.s)) {
      const fired = [1, 2, 3, 4, 5].map((m) => T0 + m * MIN).concat([3.5, 4.5, 5.5, 6.5].map((m) => T0 + m * MIN));
      expect({ name, slots: [...slots].sort() }).toEqual({ name, slots: fired.sort((a, b) => a - b).map((t) => `${iso(t)} fired`) });
    }
  }, 120_000);
});
