/**
 * A stop wins over a start; a start has a deadline. Both placements, real threads:
 * - system.stop() while an actor's start never ends (a factory promise that never settles on the
 *   main thread, a busy loop in a worker's factory) resolves within its shutdown bound: the worker
 *   is terminated, the main-thread factory abandoned (a late result is stopped), every other actor
 *   stops in reverse order, and the process exits by itself afterwards (a real child process);
 * - the same inside a supervisor group;
 * - the start deadline (`startTimeoutMs`, real time): a slow start within it is served; one past
 *   it fails the start — a first start fails the actor, a restart is retried and counts towards
 *   intensity (restarted within it, escalated past it).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { filter, firstValueFrom } from 'rxjs';
import { VirtualClock } from '../../src/runtime/clock';
import { LATE, withDeadline } from '../../src/runtime/deadline';
import { ActorSystem, type ActorSystemOptions } from '../../src/runtime/system';
import { actorModule, type Placement, type RuntimeEvent } from '../../src/runtime/types';
import type { StarterInit } from './fixtures/start-actor';

const starter = actorModule<typeof import('./fixtures/start-actor')>(join(__dirname, 'fixtures', 'start-actor.js')).logic('createStarter');
const run = promisify(execFile);
/** The default shutdownMs: the bound a stop must keep. */
const SHUTDOWN_BOUND_MS = 5000;

const outcome = (p: Promise<unknown>) => p.then(
  (value) => ({ value }),
  (e: Error & { code?: string }) => ({ code: e.code, message: e.message }),
);

function setup(opts: Partial<ActorSystemOptions> = {}) {
  const errors: Array<Record<string, unknown> & { msg: string }> = [];
  const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (o: object, msg: string) => void errors.push({ ...o, msg }) };
  const system = new ActorSystem({ clock: new VirtualClock(), logger, askTimeoutMs: Infinity, ...opts });
  const events: RuntimeEvent[] = [];
  system.events$.subscribe((e) => events.push(e));
  const next = (pred: (e: RuntimeEvent) => boolean) => firstValueFrom(system.events$.pipe(filter(pred)));
  // The witness: told by a starter when its factory began (the start is then in progress).
  const began = new Map<string, () => void>();
  const beganP = new Map<string, Promise<void>>();
  const startOf = (name: string): Promise<void> => {
    if (!beganP.has(name)) beganP.set(name, new Promise((r) => began.set(name, r)));
    return beganP.get(name)!;
  };
  const witness = system.spawn({ name: 'witness', factory: () => ({ starting: (p: { name: string }) => { void startOf(p.name); began.get(p.name)!(); } }) });
  return { system, events, errors, next, witness, startOf };
}

const stuck = (placement: Placement): StarterInit => (placement === 'thread' ? { spin: true } : { hang: true });
const ends = (events: RuntimeEvent[]) => events.filter((e) => e.type === 'actor.stopped' || e.type === 'actor.failed').map((e) => `${e.type}:${'actor' in e ? e.actor : ''}`);

describe.each<Placement>(['main', 'thread'])('a stop wins over a start, placement %s', (placement) => {
  it('system.stop() during a start that never ends resolves within the shutdown bound; the others stop in reverse order', async () => {
    const { system, events, witness, startOf } = setup();
    const ok = system.spawn({ name: 'ok', logic: starter, placement, init: {}, peers: { witness } });
    system.spawn({ name: 'stuck', logic: starter, placement, init: stuck(placement), peers: { witness } });
    expect(await ok.ask('echo', 1)).toBe(1);
    await startOf('stuck');
    expect(await withDeadline(system.stop(), SHUTDOWN_BOUND_MS)).not.toBe(LATE);
    // Stopped (not failed: a stop is no failure), last started first.
    expect(ends(events)).toEqual(['actor.stopped:stuck', 'actor.stopped:ok', 'actor.stopped:witness']);
    expect(await outcome(ok.ask('echo', 2))).toMatchObject({ code: 'ACTOR_STOPPED' });
    expect(system.children()).toEqual([]);
  });

  it('the same inside a group: the group stops, aborting its member\'s start', async () => {
    const { system, events, witness, startOf } = setup();
    const g = system.group({ name: 'g', strategy: 'one_for_one' });
    const ok = system.spawn({ name: 'ok', group: g, logic: starter, placement, init: {}, peers: { witness } });
    system.spawn({ name: 'stuck', group: g, logic: starter, placement, init: stuck(placement), peers: { witness } });
    expect(await ok.ask('echo', 1)).toBe(1);
    await startOf('stuck');
    expect(await withDeadline(system.stop(), SHUTDOWN_BOUND_MS)).not.toBe(LATE);
    expect(ends(events)).toEqual(['actor.stopped:stuck', 'actor.stopped:ok', 'actor.stopped:witness']);
  });

  it('a real process stopped during a start that never ends exits by itself (nothing of the start keeps it alive)', async () => {
    const { stdout } = await run(process.execPath, [join(__dirname, 'fixtures', 'stop-during-start-child.js'), placement], { timeout: 30_000, killSignal: 'SIGKILL' });
    const r = JSON.parse(stdout.trim()) as { stopMs: number; refused: string; tree: unknown[] };
    expect(r.stopMs).toBeLessThan(SHUTDOWN_BOUND_MS);
    expect(r).toMatchObject({ refused: 'ACTOR_STOPPED', tree: [] });
  });

  it('start deadline: a slow start within it is served', async () => {
    const { system, events } = setup();
    const a = system.spawn({ name: 'a', logic: starter, placement, init: { delayMs: 200 }, startTimeoutMs: 10_000 });
    try {
      expect(await a.ask('echo', 7)).toBe(7);
      expect(events.filter((e) => e.type === 'actor.failed')).toEqual([]);
    } finally {
      await system.stop();
    }
  });

  it('start deadline: a first start past it fails the actor (ended, not retried), logged', async () => {
    const { system, errors, next } = setup();
    const failed = next((e) => e.type === 'actor.failed');
    const a = system.spawn({ name: 'a', logic: starter, placement, init: stuck(placement), startTimeoutMs: 300 });
    try {
      expect(await failed).toMatchObject({ actor: 'a', reason: expect.stringMatching(/start failed: .*start did not finish within 300ms/) });
      expect(await outcome(a.ask('echo', 1))).toMatchObject({ code: 'ACTOR_STOPPED' });
      expect(errors).toEqual(expect.arrayContaining([expect.objectContaining({ actor: 'a', afterMs: 300, msg: expect.stringMatching(/start timed out/) })]));
    } finally {
      expect(await withDeadline(system.stop(), SHUTDOWN_BOUND_MS)).not.toBe(LATE);
    }
  });

  describe('start deadline on a restart', () => {
    let dir: string;
    beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'rae-start-')); });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('a restart past it is a failed start: retried, counted in intensity — within it the actor comes back', async () => {
      const { system, events, next } = setup({ intensity: { maxRestarts: 5, periodMs: 60_000 } });
      const hangOnceFile = join(dir, 'hang-once');
      const a = system.spawn({ name: 'a', logic: starter, placement, init: { hangOnceFile }, startTimeoutMs: 300 });
      try {
        expect(await a.ask('echo', 1)).toBe(1);
        writeFileSync(hangOnceFile, '');
        const restarted = next((e) => e.type === 'actor.restarted');
        await system.fault('a');
        await restarted;
        expect(await a.ask('echo', 2)).toBe(2);
        expect(a.stats()).toMatchObject({ restarts: 1, alive: true });
        expect(events.filter((e) => e.type === 'actor.failed' || e.type === 'system.failed')).toEqual([]);
      } finally {
        await system.stop();
      }
    });

    it('past intensity it escalates: the system fails and every actor is stopped', async () => {
      const { system, next } = setup({ intensity: { maxRestarts: 1, periodMs: 60_000 } });
      const hangOnceFile = join(dir, 'hang-once');
      const a = system.spawn({ name: 'a', logic: starter, placement, init: { hangOnceFile }, startTimeoutMs: 300 });
      try {
        expect(await a.ask('echo', 1)).toBe(1);
        writeFileSync(hangOnceFile, '');
        const gaveUp = next((e) => e.type === 'system.failed');
        await system.fault('a');
        // The crash's restart (1) and the timed-out restart (2) exceed 1 restart.
        expect(await gaveUp).toMatchObject({ reason: expect.stringMatching(/failed to restart: .*start did not finish within 300ms/) });
        expect(await outcome(a.ask('echo', 2))).toMatchObject({ code: 'ACTOR_STOPPED' });
      } finally {
        await system.stop();
      }
    });
  });
});

describe('an abandoned main-thread start', () => {
  it('its late result is stopped at once ($stop runs), never attached', async () => {
    const { system, events } = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const stops: string[] = [];
    let stopped!: () => void;
    const lateStopped = new Promise<void>((r) => { stopped = r; });
    let entered!: () => void;
    const inFactory = new Promise<void>((r) => { entered = r; });
    system.spawn({
      name: 'late',
      factory: async () => {
        entered();
        await gate;
        return { echo: (p: number) => p, $stop: () => { stops.push('late'); stopped(); } };
      },
    });
    await inFactory;
    expect(await withDeadline(system.stop(), SHUTDOWN_BOUND_MS)).not.toBe(LATE);
    expect(stops).toEqual([]);
    release();
    await lateStopped;
    expect(stops).toEqual(['late']);
    expect(ends(events)).toEqual(['actor.stopped:late', 'actor.stopped:witness']);
  });
});
