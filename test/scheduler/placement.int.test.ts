/**
 * Placement by configuration (issue 8): queue, executor, monitor and triggers each in their own
 * worker thread, the same module logic as on the main thread. A virtual clock on the main thread
 * drives the threads' timers; `advance()` returns once the threads are quiet too. The whole
 * scheduler integration suite also runs in this placement (jest project `threads`,
 * RAE_SCHED_PLACEMENT=threads); this file checks that the actors really are in threads there.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { testHooksOf } from '../../src/scheduler';
import { threadActorProbe, type ThreadActorProbe } from '../../src/testing';
import { useSchedulers } from '../helpers/scheduler';

const T0 = Date.parse('2031-03-01T00:00:00Z');
const PLACED = ['queue', 'executor', 'monitor', 'triggers'] as const;
const ALL_THREADS = { queue: 'thread', executor: 'thread', monitor: 'thread', triggers: 'thread' } as const;

describe('placement: queue, executor, monitor and triggers in threads', () => {
  const env = useSchedulers();
  let probe: ThreadActorProbe;
  beforeEach(() => { probe = threadActorProbe(); });
  afterEach(() => probe.close());

  it('each runs in its own worker thread; virtual time fires jobs through them', async () => {
    const { s, clock, runs } = await env.open(T0, { placement: ALL_THREADS });
    for (const actor of PLACED) expect([actor, probe.started(actor)]).toEqual([actor, 1]);
    const job = await s.addJob({ name: 'tick', schedule: 'every 10s', command: 'true' });
    // One slot at a time: a run's process ends in real time (overlap would skip the next slot).
    for (let n = 1; n <= 3; n++) {
      await clock.advance(10_000);
      await runs.wait(n);
    }
    const done = runs.runs;
    expect(done.map((r) => [r.jobId, r.status, r.scheduledAt])).toEqual([10_000, 20_000, 30_000]
      .map((d) => [job.id, 'succeeded', new Date(T0 + d).toISOString()]));
    // The read path and the monitor see the threads' facts.
    expect((await s.getJob('tick')).nextRunAt).toBe(new Date(T0 + 40_000).toISOString());
    const stats = await s.stats();
    expect(stats.queue.scheduled).toBe(1);
    expect(stats.runs.succeeded).toBe(3);
    const health = await s.health();
    for (const actor of PLACED) expect([actor, health.components[actor]?.healthy]).toEqual([actor, true]);
  });

  it('a queue thread killed mid-schedule is restarted, re-armed, and every slot still runs once', async () => {
    const { s, clock, runs } = await env.open(T0, { placement: ALL_THREADS });
    await s.addJob({ name: 'tick', schedule: 'every 10s', command: 'true' });
    await clock.advance(10_000);
    await runs.wait(1);
    const restarted = firstValueFrom(s.events$.pipe(filter((e) => e.type === 'actor.restarted' && e.actor === 'queue')));
    await probe.crash('queue');
    await restarted;
    expect(probe.started('queue')).toBe(2);
    for (let n = 2; n <= 3; n++) {
      await clock.advance(10_000);
      await runs.wait(n);
    }
    const done = runs.runs;
    expect(done.map((r) => r.scheduledAt)).toEqual([10_000, 20_000, 30_000].map((d) => new Date(T0 + d).toISOString()));
  });

  it('crash injection reaches a handler inside a thread (throwIn): the executor crashes, restarts, the job keeps firing', async () => {
    const { s, clock, runs } = await env.open(T0, { placement: ALL_THREADS });
    const restarted = firstValueFrom(s.events$.pipe(filter((e) => e.type === 'actor.restarted' && e.actor === 'executor')));
    testHooksOf(s).throwIn('executor', 'startMany');
    await s.addJob({ name: 'tick', schedule: 'every 10s', command: 'true' });
    await clock.advance(10_000);
    await restarted;
    expect(probe.started('executor')).toBe(2);
    await clock.advance(10_000);
    const done = await runs.wait(2);
    // The run handed to the crashed incarnation ends (not lost); the next slot runs on the new thread.
    expect(done.map((r) => [r.scheduledAt, r.status === 'succeeded'])).toEqual([
      [new Date(T0 + 10_000).toISOString(), false], [new Date(T0 + 20_000).toISOString(), true]]);
  });

  it('a file watch in the triggers thread fires its job (@parcel/watcher runs in a worker thread)', async () => {
    const watched = join(env.dir(), 'inbox');
    mkdirSync(watched);
    const { s, clock, runs } = await env.open(T0, { placement: ALL_THREADS });
    const job = await s.addJob({ name: 'on-file', schedule: 'never', command: 'true', triggers: [{ type: 'watch', paths: [watched] }] });
    writeFileSync(join(watched, 'a.txt'), 'x');
    // The event arrives in real time; its debounce runs on the virtual clock (in the thread's proxy).
    const executed = (): typeof runs.runs => runs.runs.filter((r) => r.status !== 'skipped');
    for (let i = 0; i < 200 && executed().length === 0; i++) {
      await clock.advance(600);
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(executed()[0]).toMatchObject({ jobId: job.id, trigger: 'event', status: 'succeeded' });
    expect((await s.health()).components.watches?.healthy).toBe(true);
  });

  it('RAE_SCHED_PLACEMENT=threads is the default placement; an option overrides it; a bad value is refused', async () => {
    const saved = process.env.RAE_SCHED_PLACEMENT;
    try {
      process.env.RAE_SCHED_PLACEMENT = 'threads';
      await env.open(T0, { placement: { monitor: 'main' } });
      expect(PLACED.map((a) => [a, probe.started(a)])).toEqual([['queue', 1], ['executor', 1], ['monitor', 0], ['triggers', 1]]);
      process.env.RAE_SCHED_PLACEMENT = 'everywhere';
      await expect(env.open(T0)).rejects.toMatchObject({ code: 'VALIDATION', field: 'RAE_SCHED_PLACEMENT' });
    } finally {
      if (saved === undefined) delete process.env.RAE_SCHED_PLACEMENT;
      else process.env.RAE_SCHED_PLACEMENT = saved;
    }
  });
});
