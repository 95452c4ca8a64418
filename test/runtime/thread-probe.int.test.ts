/**
 * `threadActorProbe` (rae-scheduler/testing): crashing a real scheduler's worker-thread actors.
 * The supervisor restarts them and the scheduler keeps serving; acknowledged jobs stay stored.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { createScheduler, type Scheduler } from '../../src';
import { threadActorProbe, type ThreadActorProbe } from '../../src/testing';

describe('threadActorProbe', () => {
  let dir: string;
  let probe: ThreadActorProbe;
  let s: Scheduler;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rae-probe-'));
    probe = threadActorProbe();
    s = await createScheduler({ dataDir: dir });
  });
  afterEach(async () => {
    probe.close();
    await s.shutdown({ graceMs: 0 });
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['persistence', 'parser'])('crash(%s): the actor is restarted on a new thread and the scheduler serves again', async (actor) => {
    await s.addJob({ name: 'before', schedule: 'every 6 hours', command: 'true' });
    expect(probe.started(actor)).toBe(1);
    const restarted = firstValueFrom(s.events$.pipe(filter((e) => e.type === 'actor.restarted' && e.actor === actor)));
    await probe.crash(actor);
    await restarted;
    expect(probe.started(actor)).toBe(2);
    await s.addJob({ name: 'after', schedule: 'every 6 hours', command: 'true' });
    expect((await s.listJobs()).map((j) => j.name).sort()).toEqual(['after', 'before']);
    expect((await s.health()).components[actor]).toMatchObject({ healthy: true, restarts: 1 });
  });

  it('crash of an actor it never saw is NOT_FOUND', async () => {
    await expect(probe.crash('nobody')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
