import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { SystemClock } from '../../src/runtime/clock';
import { ActorSystem } from '../../src/runtime/system';
import { ThreadIncarnation } from '../../src/runtime/thread-host';
import { actorModule, type RuntimeEvent } from '../../src/runtime/types';

const logic = actorModule<typeof import('./fixtures/echo-actor')>(join(__dirname, 'fixtures', 'echo-actor.js')).logic('createEcho');

const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code?: string }) => e.code);

describe('thread actors (real worker threads)', () => {
  let system: ActorSystem;
  let dir: string;
  const next = (type: RuntimeEvent['type'], actor: string) =>
    firstValueFrom(system.events$.pipe(filter((e) => e.type === type && 'actor' in e && e.actor === actor)));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rae-runtime-'));
    // Ask timeout well above the test's own: a call to a dead worker must fail with ACTOR_DEAD,
    // not by timing out.
    system = new ActorSystem({ clock: new SystemClock(), askTimeoutMs: 60_000, intensity: { maxRestarts: 10, periodMs: 60_000 } });
  });
  afterEach(async () => {
    await system.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves asks from the worker; handler errors keep their code across the thread and the mailbox lives on', async () => {
    const a = system.spawn({ name: 'echo', logic, placement: 'thread', init: { tag: 'T' } });
    expect(await a.ask('echo', 'hi')).toBe('T:hi');
    expect(await a.ask('whoami', undefined)).not.toBe(0);
    await expect(a.ask('missing', 'j1')).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'no job j1' });
    await expect(a.ask('invalid', undefined)).rejects.toMatchObject({ code: 'VALIDATION', field: 'schedule' });
    expect(await code(a.ask('plain', undefined))).toBe('INTERNAL');
    expect(await code(a.ask('nope' as 'echo', 'x'))).toBe('VALIDATION');
    expect(await a.ask('count', undefined)).toBe(1);
    expect(a.stats()).toMatchObject({ processed: 3, failed: 4, restarts: 0, alive: true });
  });

  type EchoRef = ReturnType<typeof spawnEcho>;
  const spawnEcho = () => system.spawn({ name: 'echo', logic, placement: 'thread', init: { tag: 'T' } });
  const crashes: Array<[string, (a: EchoRef) => Promise<unknown>]> = [
    ['an uncaught exception in the worker', (a) => a.ask('throwUncaught', undefined)],
    ['process.exit in the worker', (a) => a.ask('exit', 3)],
    ['a handler throwing ActorCrash', (a) => a.ask('crash', 'store lost')],
  ];
  it.each(crashes)('%s: in-flight ask rejects with ACTOR_DEAD, queued ones reach the restarted worker', async (_, kill) => {
    const a = spawnEcho();
    const first = await a.ask('whoami', undefined);
    expect(await a.ask('count', undefined)).toBe(1);
    const restarted = next('actor.restarted', 'echo');
    const dying = code(kill(a));
    const queued = [a.ask('count', undefined), a.ask('echo', 'after')];
    expect(await dying).toBe('ACTOR_DEAD');
    await restarted;
    // Fresh incarnation: factory ran again (count restarts from 1), on a new thread.
    expect(await Promise.all(queued)).toEqual([1, 'T:after']);
    expect(await a.ask('whoami', undefined)).not.toBe(first);
    expect(a.stats()).toMatchObject({ restarts: 1, alive: true });
  });

  it('errors keep code, name and cause across the thread: a crash is ActorDeadError caused by the ActorCrash', async () => {
    const a = spawnEcho();
    const err = await a.ask('crash', 'store lost').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ACTOR_DEAD', name: 'ActorDeadError', cause: { name: 'ActorCrash', message: 'store lost' } });
    const plain = await a.ask('plain', undefined).catch((e: unknown) => e);
    expect(plain).toMatchObject({ code: 'INTERNAL', name: 'TypeError', message: 'plain failure' });
  });

  it('a payload or a reply that is not structured-clonable fails that ask (DataCloneError), not the actor', async () => {
    const a = spawnEcho();
    await expect(a.ask('echo', (() => 'x') as unknown as string)).rejects.toMatchObject({ name: 'DataCloneError' });
    await expect(a.ask('unclonable', undefined)).rejects.toMatchObject({ code: 'INTERNAL', name: 'DataCloneError' });
    expect(await a.ask('echo', 'still here')).toBe('T:still here');
    expect(a.stats()).toMatchObject({ restarts: 0, alive: true });
  });

  it('standby: a restart runs on the spare worker booted (module loaded) after the previous start', async () => {
    const a = system.spawn({ name: 'warm', logic, placement: 'thread', standby: true, init: { tag: 'W' } });
    const first = await a.ask('whoami', undefined);
    for (const round of [1, 2]) {
      const restarted = next('actor.restarted', 'warm');
      expect(await system.fault('warm')).toBe(true);
      await restarted;
      // Thread ids are handed out at Worker creation: the spare was created right after the
      // previous incarnation started, so it has the next id.
      expect(await a.ask('whoami', undefined)).toBe(first + round);
      expect(await a.ask('count', undefined)).toBe(1);
    }
  });

  it('a worker terminated by V8 (heap over resourceLimits) is detected and restarted', async () => {
    const a = system.spawn({ name: 'hog', logic, placement: 'thread', init: { tag: 'H' }, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } });
    const restarted = next('actor.restarted', 'hog');
    expect(await code(a.ask('oom', undefined))).toBe('ACTOR_DEAD');
    await restarted;
    expect(await a.ask('echo', 'alive')).toBe('H:alive');
  });

  it('a failing factory in the worker fails the actor with the error code kept', async () => {
    const failed = next('actor.failed', 'bad');
    const a = system.spawn({ name: 'bad', logic, placement: 'thread', init: { tag: 'B', failInit: true } });
    const pending = code(a.ask('echo', 'x'));
    expect(await failed).toMatchObject({ reason: expect.stringContaining('VALIDATION') });
    expect(await pending).toBe('ACTOR_STOPPED');
  });

  it('stop runs $stop in the worker, then terminates it', async () => {
    const stopFile = join(dir, 'stopped.txt');
    const a = system.spawn({ name: 'echo', logic, placement: 'thread', init: { tag: 'S', stopFile } });
    expect(await a.ask('echo', 'x')).toBe('S:x');
    await system.stop();
    expect(readFileSync(stopFile, 'utf8')).toBe('stopped S');
    expect(await code(a.ask('echo', 'y'))).toBe('ACTOR_STOPPED');
  });

  it('rejects a relative module path with a VALIDATION error; a missing export fails the start with VALIDATION', async () => {
    expect(() => system.spawn({ name: 'x', logic: { module: 'fixtures/echo-actor.js', export: 'createEcho' }, placement: 'thread' }))
      .toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'logic' }));
    const failed = next('actor.failed', 'y');
    system.spawn({ name: 'y', logic: { module: logic.module, export: 'nothingHere' }, placement: 'thread' });
    expect(await failed).toMatchObject({ reason: expect.stringContaining('VALIDATION') });
  });
});

describe('ThreadIncarnation', () => {
  it('a worker terminated from outside is a crash: the in-flight call rejects ACTOR_DEAD at once', async () => {
    const inc = await ThreadIncarnation.start({ name: 'raw', logic, init: { tag: 'R' } });
    expect(await inc.invoke('echo', 'x')).toBe('R:x');
    const pending = code(inc.invoke('hang', undefined));
    await inc.terminateForTest();
    expect(await pending).toBe('ACTOR_DEAD');
    const exit = await inc.exited;
    expect(exit.normal).toBe(false);
    expect(!exit.normal && (exit.error as { code?: string }).code).toBe('ACTOR_DEAD');
  });

  it('kill() ends a hung call with ACTOR_STOPPED and exits normally', async () => {
    const inc = await ThreadIncarnation.start({ name: 'raw', logic, init: { tag: 'R' } });
    const pending = code(inc.invoke('hang', undefined));
    await inc.kill();
    expect(await pending).toBe('ACTOR_STOPPED');
    expect(await inc.exited).toEqual({ normal: true });
  });
});
