/**
 * The actor runtime's hops and restarts.
 *
 * 1. `hops`: ask round trips per second main→main, main→thread, thread→main, thread→thread, one
 *    at a time (window 1: latency-bound) and 64 in flight (window 64), against the ceilings
 *    measured in the same run: a plain async call (main) and a bare worker postMessage echo
 *    (thread). A thread actor's asks are driven from inside its thread (its `drive` handler).
 * 2. `restart`: a thread actor's worker is terminated (system.fault) while asks are in flight;
 *    time from the fault to the next served ask, for the real parser and persistence actors, cold
 *    (new worker boots and loads the module) and with `standby: true` (a spare worker has the
 *    module loaded; only the factory runs). For persistence every acknowledged write is looked up
 *    in the store afterwards: lost must be 0.
 *
 * Run: `npm run bench:actor-hop` (or `node dist/bench/actor-hop.js [--ms 1000] [--rounds 3] [--trials 10]`).
 * Prints the result JSON and writes bench/results/actor-hop.json.
 */
import { Worker } from 'node:worker_threads';
import { Store } from '../src/actors/persistence/store';
import { SystemClock } from '../src/runtime/clock';
import { ActorSystem } from '../src/runtime/system';
import { actorModule, type ActorContext, type PeerRef } from '../src/runtime/types';
import { makeJob, removeDir, tempDir } from '../test/persistence/helpers/fixtures';
import { childMain, percentiles, runChild, writeResult } from './lib';

/** The bench actor: answers pings, or drives pings at its peer from wherever it runs. */
export type HopProtocol = {
  ping(n: number): number;
  drive(p: { ms: number; window: number }): Promise<Rate>;
};
export type HopPeers = { target?: PeerRef<HopProtocol> };

interface Rate { count: number; ms: number }

/** `window` callers in a loop for `ms`: how many calls completed. */
async function drive(ms: number, window: number, call: (n: number) => Promise<unknown>): Promise<Rate> {
  const start = performance.now();
  let count = 0;
  const caller = async (): Promise<void> => {
    while (performance.now() - start < ms) {
      await call(count);
      count++;
    }
  };
  await Promise.all(Array.from({ length: window }, caller));
  return { count, ms: performance.now() - start };
}

/** Factory of the bench actor (loaded by module path, in either placement). */
export function createHop(_init: undefined, ctx: ActorContext<HopPeers>): HopProtocol {
  return {
    ping: (n) => n,
    drive: ({ ms, window }) => {
      const target = ctx.peers.target;
      if (target === undefined) throw new Error('no target peer');
      return drive(ms, window, (n) => target.ask('ping', n));
    },
  };
}

const hop = actorModule<typeof import('./actor-hop')>(__filename).logic('createHop');
const perSec = (r: Rate): number => Math.round((r.count / r.ms) * 1000);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface HopArgs { ms: number; rounds: number }

async function hops(a: HopArgs): Promise<Record<string, unknown>> {
  const system = new ActorSystem({ clock: new SystemClock() });
  const mainTarget = system.spawn({ name: 'main-target', logic: hop });
  const threadTarget = system.spawn({ name: 'thread-target', logic: hop, placement: 'thread' });
  const toMain = system.spawn({ name: 'thread-to-main', logic: hop, placement: 'thread', peers: { target: mainTarget } });
  const toThread = system.spawn({ name: 'thread-to-thread', logic: hop, placement: 'thread', peers: { target: threadTarget } });
  const echo = new Worker("const { parentPort } = require('node:worker_threads'); parentPort.on('message', (m) => parentPort.postMessage(m));", { eval: true });
  const waiting = new Map<number, () => void>();
  echo.on('message', (n: number) => { waiting.get(n)?.(); waiting.delete(n); });
  let seq = 0;
  const rawPost = (): Promise<void> => new Promise((resolve) => { const id = seq++; waiting.set(id, resolve); echo.postMessage(id); });
  const plainCall = async (n: number): Promise<number> => n;
  const paths: Record<string, (window: number) => Promise<Rate>> = {
    'ceiling:async-call': (w) => drive(a.ms, w, plainCall),
    'ceiling:worker-postMessage': (w) => drive(a.ms, w, rawPost),
    'main->main': (w) => drive(a.ms, w, (n) => mainTarget.ask('ping', n)),
    'main->thread': (w) => drive(a.ms, w, (n) => threadTarget.ask('ping', n)),
    'thread->main': (w) => toMain.ask('drive', { ms: a.ms, window: w }, { timeoutMs: a.ms * 10 }),
    'thread->thread': (w) => toThread.ask('drive', { ms: a.ms, window: w }, { timeoutMs: a.ms * 10 }),
  };
  await Promise.all([threadTarget.ask('ping', 0), toMain.ask('ping', 0), toThread.ask('ping', 0)]);
  const out: Record<string, unknown> = {};
  for (const window of [1, 64]) {
    const rates: Record<string, number[]> = {};
    for (let r = 0; r < a.rounds; r++) {
      for (const [name, run] of Object.entries(paths)) (rates[name] ??= []).push(perSec(await run(window)));
    }
    const row: Record<string, unknown> = {};
    for (const [name, xs] of Object.entries(rates)) row[name] = { perSec: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
    const m = (k: string): number => (row[k] as { perSec: number }).perSec;
    row.ratios = {
      'main->main / async-call': +(m('main->main') / m('ceiling:async-call')).toFixed(4),
      'main->thread / postMessage': +(m('main->thread') / m('ceiling:worker-postMessage')).toFixed(3),
      'thread->main / postMessage': +(m('thread->main') / m('ceiling:worker-postMessage')).toFixed(3),
      'thread->thread / postMessage': +(m('thread->thread') / m('ceiling:worker-postMessage')).toFixed(3),
    };
    out[`window${window}`] = row;
  }
  await echo.terminate();
  await system.stop();
  return out;
}

interface RestartArgs { trials: number; writers: number; standby: boolean }

/**
 * Keeps `writers` asks in flight on `actor` (each writer: one ask at a time), faults the actor's
 * thread once ~`warm` asks were acknowledged, and times fault → next acknowledged ask.
 */
async function trial(system: ActorSystem, actor: string, writers: number, ask: (i: number) => Promise<unknown>, onAck: (i: number) => void) {
  let next = 0;
  let acked = 0;
  let dead = 0;
  let faultAt: number | null = null;
  // Set once the old worker has exited: every ack after it was served by the new incarnation.
  let faulted = false;
  let recoveredMs: number | null = null;
  let stop = false;
  const writer = async (): Promise<void> => {
    while (!stop) {
      const i = next++;
      try {
        await ask(i);
        acked++;
        onAck(i);
        if (faulted && faultAt !== null && recoveredMs === null) {
          recoveredMs = performance.now() - faultAt;
          stop = true;
        }
      } catch (err) {
        if ((err as { code?: string }).code !== 'ACTOR_DEAD') throw err;
        dead++;
      }
    }
  };
  // Let a standby worker (booted after the previous restart) finish loading: crashes are rare.
  await new Promise((r) => setTimeout(r, 2000));
  const running = Promise.all(Array.from({ length: writers }, writer));
  while (acked < 50) await new Promise((r) => setImmediate(r));
  let restartedMs = NaN;
  const sub = system.events$.subscribe((e) => {
    if (e.type === 'actor.restarted' && e.actor === actor && faultAt !== null) restartedMs = performance.now() - faultAt;
  });
  faultAt = performance.now();
  await system.fault(actor);
  const exitedMs = performance.now() - faultAt;
  faulted = true;
  await running;
  sub.unsubscribe();
  return { recoveredMs: recoveredMs ?? NaN, exitedMs, restartedMs, inFlightFailed: dead };
}

async function restart(a: RestartArgs): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const dir = tempDir();
  const system = new ActorSystem({ clock: new SystemClock(), intensity: { maxRestarts: a.trials * 4, periodMs: 3_600_000 } });
  try {
    const parser = system.spawn({
      name: 'parser', placement: 'thread', standby: a.standby,
      logic: actorModule<typeof import('../src/actors/parser/actor')>(require.resolve('../src/actors/parser/actor')).logic('createParserHandlers'),
    });
    const persistence = system.spawn({
      name: 'persistence', placement: 'thread', standby: a.standby, init: { dataDir: dir },
      logic: actorModule<typeof import('../src/actors/persistence/actor')>(require.resolve('../src/actors/persistence/actor')).logic('createPersistenceHandlers'),
    });
    const now = Date.now();
    const parserRuns = [];
    for (let t = 0; t < a.trials; t++) {
      parserRuns.push(await trial(system, 'parser', a.writers, (i) => parser.ask('parse', { text: `every ${(i % 59) + 1} minutes`, now }), () => undefined));
    }
    const acked: string[] = [];
    const jobs = new Map<number, ReturnType<typeof makeJob>>();
    const persistRuns = [];
    let base = 0;
    for (let t = 0; t < a.trials; t++) {
      const offset = base;
      persistRuns.push(await trial(system, 'persistence', a.writers, (i) => {
        const job = makeJob(offset + i);
        jobs.set(offset + i, job);
        return persistence.ask('insertJob', { job });
      }, (i) => acked.push(jobs.get(offset + i)!.id)));
      base += 1_000_000;
    }
    await system.stop();
    const store = await Store.open({ dataDir: dir });
    let lost = 0;
    try {
      for (const id of acked) if (store.getJob(id) === null) lost++;
    } finally {
      await store.close();
    }
    const summary = (runs: Array<{ recoveredMs: number; exitedMs: number; restartedMs: number; inFlightFailed: number }>) => ({
      /** fault -> next acknowledged ask (the goal). */
      recoveryMs: percentiles(runs.map((r) => r.recoveredMs)),
      /** fault -> old worker exited (terminate). */
      exitedMs: percentiles(runs.map((r) => r.exitedMs)),
      /** fault -> actor.restarted (new incarnation serving). */
      restartedMs: percentiles(runs.map((r) => r.restartedMs)),
      inFlightFailedPerFault: percentiles(runs.map((r) => r.inFlightFailed)),
    });
    out.parser = summary(parserRuns);
    out.persistence = { ...summary(persistRuns), acknowledgedWrites: acked.length, acknowledgedLost: lost };
  } finally {
    await system.stop();
    removeDir(dir);
  }
  return out;
}

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
}

async function parent(): Promise<void> {
  const file = __filename;
  const hopsResult = await runChild<Record<string, unknown>>(file, 'hops', { ms: flag('ms', 1000), rounds: flag('rounds', 3) });
  const restartCold = await runChild<Record<string, unknown>>(file, 'restart', { trials: flag('trials', 10), writers: 8, standby: false });
  const restartStandby = await runChild<Record<string, unknown>>(file, 'restart', { trials: flag('trials', 10), writers: 8, standby: true });
  const body = { hops: hopsResult, restart: { cold: restartCold, standby: restartStandby }, goal: { recoveryMs: '< 100 (parser, persistence)', acknowledgedLost: 0 } };
  const where = writeResult('actor-hop', body);
  process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  process.stderr.write(`written to ${where}\n`);
}

// Loaded by the generic worker entry (as the bench actor's module), this file must do nothing.
if (require.main === module && !childMain({ hops, restart } as Record<string, (a: never) => Promise<unknown>>)) {
  parent().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
