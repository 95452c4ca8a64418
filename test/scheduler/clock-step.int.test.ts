/**
 * A wall-clock step made durable as ONE record (src/actors/persistence/clock-frame.ts): interval
 * jobs' states are not rewritten, yet every reader (the scheduler's restart, `list`) sees them moved
 * by the step; and a crash (`kill -9`, real LMDB) right after the step was handled — its record
 * durable or not — neither fires a slot twice nor loses one.
 */
import { filter, firstValueFrom } from 'rxjs';
import { Store } from '../../src/actors/persistence/store';
import { testHooksOf } from '../../src/scheduler';
import { useSchedulers } from '../helpers/scheduler';
import { slotsPerJob, stepThenKill as stepChild } from '../helpers/clock-step';
import { until } from '../helpers/until';

const MIN = 60_000;
const STEP = 3 * MIN;
const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const JOBS = 20;
const stepThenKill = (dir: string, mode: 'durable' | 'unrecorded', extra: string[] = []): Promise<void> => stepChild(dir, T0, JOBS, mode, extra);

describe('a clock step, durable as one record', () => {
  const fixture = useSchedulers();

  it('moves every interval state with no state written; a restart and `list` see them moved', async () => {
    const { s, clock } = await fixture.open(T0);
    for (let i = 0; i < JOBS; i++) await s.addJob({ name: `iv${i}`, schedule: 'every 10 minutes', command: 'true' });
    await s.addJob({ name: 'cron', schedule: '0 * * * *', timezone: 'UTC', command: 'true' });
    const before = new Map((await s.listJobs()).map((j) => [j.name, j.nextRunAt]));
    await clock.advance(1000);
    const hooks = testHooksOf(s);
    const stats = await hooks.commitStats();
    const jumped = firstValueFrom(s.events$.pipe(filter((e) => e.type === 'clock.jumped')));
    clock.jump(STEP);
    await clock.advance(30_000);
    await jumped;
    const after = await hooks.commitStats();
    // The step's turn wrote no record of its own beyond the clock frame (states are not rewritten).
    expect(after.records - stats.records).toBe(0);
    expect(after.commits - stats.commits).toBeGreaterThanOrEqual(1);
    const moved = new Map((await s.listJobs()).map((j) => [j.name, j.nextRunAt]));
    for (let i = 0; i < JOBS; i++) expect(moved.get(`iv${i}`)).toBe(new Date(Date.parse(before.get(`iv${i}`)!) + STEP).toISOString());
    expect(moved.get('cron')).toBe(before.get('cron')); // calendar time: not moved by a forward step
    await s.shutdown({ graceMs: 0 });

    // The store at rest: one clock record; tagged states read moved.
    const store = await Store.open({ dataDir: fixture.dir(), readOnly: true });
    try {
      expect(store.clockFrame()).toEqual({ seq: 1, offsetMs: STEP });
      const page = store.listJobsPage(null, 100);
      for (const { job, state } of page.entries) {
        expect(state?.nextRunAt).toBe(moved.get(job.name));
      }
    } finally {
      await store.close();
    }

    // A restart arms the moved slots: each job fires once, at its moved slot, nothing missed.
    const again = await fixture.open(T0 + 1000 + STEP + 30_000);
    await again.clock.advance(10 * MIN);
    await again.runs.wait(JOBS);
    const slots = await slotsPerJob(again.s);
    for (let i = 0; i < JOBS; i++) {
      expect(slots.get(`iv${i}`)).toEqual([`${new Date(T0 + 10 * MIN + STEP).toISOString()} fired`]);
    }
  }, 120_000);

  it('a second step adds to the first; states written between them read right', async () => {
    const { s, clock, runs } = await fixture.open(T0);
    await s.addJob({ name: 'iv', schedule: 'every 10 minutes', command: 'true' });
    await s.addJob({ name: 'quiet', schedule: 'every 1 hour', command: 'true' });
    const step = async (ms: number): Promise<void> => {
      const jumped = firstValueFrom(s.events$.pipe(filter((e) => e.type === 'clock.jumped')));
      clock.jump(ms);
      await clock.advance(30_000);
      await jumped;
    };
    await step(STEP);
    await clock.advance(10 * MIN); // iv fires at its moved slot (its state is written at offset 3 min)
    await runs.wait(1);
    await step(-2 * MIN);
    const shown = new Map((await s.listJobs()).map((j) => [j.name, j.nextRunAt]));
    expect(shown.get('iv')).toBe(new Date(T0 + 20 * MIN + STEP - 2 * MIN).toISOString());
    expect(shown.get('quiet')).toBe(new Date(T0 + 60 * MIN + STEP - 2 * MIN).toISOString());
    await s.shutdown({ graceMs: 0 });
    const store = await Store.open({ dataDir: fixture.dir(), readOnly: true });
    try {
      expect(store.clockFrame()).toMatchObject({ seq: 2, offsetMs: STEP - 2 * MIN });
      const states = new Map(store.listJobsPage(null, 10).entries.map((e) => [e.job.name, e.state]));
      expect(states.get('quiet')?.nextRunAt).toBe(shown.get('quiet'));
      // iv fired at its moved slot (T0 + 13 min): no state written since, its watermark is that
      // slot read in today's frame, and its stored next slot is stale (unknown: it follows from
      // the watermark and the schedule, fire-layout.ts).
      expect(states.get('iv')).toMatchObject({ lastSlotAt: new Date(T0 + 10 * MIN + STEP - 2 * MIN).toISOString(), nextRunAt: null });
    } finally {
      await store.close();
    }
  }, 120_000);

  it('interval states stored untagged (an older version, the offline CLI) are written once, at the first step', async () => {
    // Jobs and untagged states written straight into the store, as an older version left them.
    const store = await Store.open({ dataDir: fixture.dir() });
    const iso = (ms: number): string => new Date(ms).toISOString();
    for (let i = 0; i < 5; i++) {
      const id = `job_${String(i).padStart(8, '0')}`;
      await store.insertJob({
        id, name: `old${i}`, schedule: 'every 10 minutes', timezone: null, command: 'true', module: null, enabled: true, priority: 0,
        retry: { maxRetries: 0, backoffMs: 1000 }, limits: {}, overlap: 'skip', catchUp: 'once', cwd: null, env: {}, triggers: [],
        jitterMs: 0, createdAt: iso(T0), updatedAt: iso(T0), completedAt: null, nextRunAt: null, lastRun: null, state: 'scheduled',
      });
      await store.putScheduleState({ jobId: id, lastSlotAt: null, nextRunAt: iso(T0 + 10 * MIN), anchorAt: iso(T0) });
    }
    await store.close();
    const { s, clock } = await fixture.open(T0 + 1000);
    const hooks = testHooksOf(s);
    const step = async (): Promise<number> => {
      const before = (await hooks.commitStats()).records;
      const jumped = firstValueFrom(s.events$.pipe(filter((e) => e.type === 'clock.jumped')));
      clock.jump(STEP);
      await clock.advance(30_000);
      await jumped;
      return (await hooks.commitStats()).records - before;
    };
    expect(await step()).toBe(5); // untagged: each written, tagged, at the first step
    expect(await step()).toBe(0); // tagged since: the step is the clock record alone
    for (const j of await s.listJobs()) expect(j.nextRunAt).toBe(iso(T0 + 10 * MIN + 2 * STEP));
    await s.shutdown({ graceMs: 0 });
    const again = await Store.open({ dataDir: fixture.dir(), readOnly: true });
    try {
      for (const { state } of again.listJobsPage(null, 10).entries) expect(state?.nextRunAt).toBe(iso(T0 + 10 * MIN + 2 * STEP));
    } finally {
      await again.close();
    }
  }, 120_000);

  it.each(['durable', 'unrecorded'] as const)('kill -9 right after a step (its record %s): no slot twice, none lost', async (mode) => {
    await stepThenKill(fixture.dir(), mode);
    // The store holds the step only if its record was durable.
    const store = await Store.open({ dataDir: fixture.dir(), readOnly: true });
    const frame = store.clockFrame();
    await store.close();
    expect(frame).toEqual(mode === 'durable' ? { seq: 1, offsetMs: STEP } : { seq: 0, offsetMs: 0 });
    // Restarted where the child stopped (virtual time: after the step and the timer's wake).
    const { s, clock, runs } = await fixture.open(T0 + STEP + 30_000);
    // Through the next slot of every job, either frame: old (T0+10m) or moved (T0+13m).
    await clock.advance(15 * MIN);
    await runs.wait(JOBS);
    await until('every job has its one slot', () => slotsPerJob(s), (m) => [...m.values()].every((v) => v.length >= 1), 60_000);
    const expected = new Date(T0 + 10 * MIN + (mode === 'durable' ? STEP : 0)).toISOString();
    for (const [name, slots] of await slotsPerJob(s)) {
      // Exactly one slot between the start and now, run (not missed, not twice).
      expect({ name, slots }).toEqual({ name, slots: [`${expected} fired`] });
    }
    expect(runs.runs.filter((r) => r.status === 'succeeded')).toHaveLength(JOBS);
  }, 180_000);

  // A job fires, then the clock steps, then a restart: the fired slot is not fired again, the next
  // slot is where the step put it, nothing is missed (the fired jobs' watermark comes from their
  // slot record, written before the step).
  const iso = (ms: number): string => new Date(ms).toISOString();
  const firedThenStepped = async (restartAt: number, stepMs: number): Promise<void> => {
    const { s, clock, runs } = await fixture.open(restartAt);
    await clock.advance(15 * MIN); // past the moved next slot (T0 + 20 min + step), before the one after
    await runs.wait(JOBS);
    await until('every job has its two slots', () => slotsPerJob(s), (m) => [...m.values()].every((v) => v.length >= 2), 60_000);
    for (const [name, slots] of await slotsPerJob(s)) {
      expect({ name, slots: [...slots].sort() }).toEqual({ name, slots: [`${iso(T0 + 10 * MIN)} fired`, `${iso(T0 + 20 * MIN + stepMs)} fired`] });
    }
    expect(runs.runs.filter((r) => r.status === 'succeeded')).toHaveLength(JOBS);
  };

  it.each([STEP, -STEP])('fired, then a step of %d ms, then a graceful restart: each slot once, the next one moved', async (stepMs) => {
    const { s, clock, runs } = await fixture.open(T0);
    for (let i = 0; i < JOBS; i++) await s.addJob({ name: `iv${i}`, schedule: 'every 10 minutes', command: 'true' });
    await clock.advance(10 * MIN + 1000);
    await runs.wait(JOBS);
    const jumped = firstValueFrom(s.events$.pipe(filter((e) => e.type === 'clock.jumped')));
    clock.jump(stepMs);
    await clock.advance(30_000);
    await jumped;
    for (const j of await s.listJobs()) expect({ name: j.name, next: j.nextRunAt }).toEqual({ name: j.name, next: iso(T0 + 20 * MIN + stepMs) });
    const at = clock.now();
    await s.shutdown({ graceMs: 0 });
    await firedThenStepped(at, stepMs);
  }, 120_000);

  it.each([STEP, -STEP])('fired, then a step of %d ms, then kill -9: each slot once, the next one moved', async (stepMs) => {
    await stepThenKill(fixture.dir(), 'durable', ['fired', String(stepMs)]);
    // Restarted where the child stopped (virtual time: first slot + 1 s, its runs + 1 s, the step, the timer's wake).
    await firedThenStepped(T0 + 10 * MIN + 2000 + stepMs + 30_000, stepMs);
  }, 180_000);
});
