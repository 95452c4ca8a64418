/**
 * Chaos soak (issue 8): 100 jobs at mixed intervals while a driver crashes random actors and
 * threads, then `kill -9`s the real daemon and restarts it. At the end a checker walks the store
 * and proves: no acknowledged job lost, no slot run twice (and none skipped: every interval has
 * its slot), every run in a final state, no process left behind.
 *
 * Bounded: RAE_SCHED_SOAK_S seconds of real time in all (default 60, as issue 8 asks of CI, split
 * between the two phases); set it higher for a longer soak. The driver's choices come from a
 * seeded generator (RAE_SCHED_SOAK_SEED, default 8): the invariants are checked, never timing, so
 * the test holds on a loaded 2-core machine.
 *
 * 1. In process, on a virtual clock (the daemon cannot take one): every third virtual second the
 *    driver crashes one actor (its thread terminated, or its incarnation ended), or makes one of
 *    its handlers throw a plain Error (a bug), or adds a job (acknowledged mid-chaos). A crash at
 *    most every 3 s stays under the root's intensity (5 in 10 s), so it never escalates.
 * 2. The real `bin/rae-sched daemon` on the real clock, `kill -9`ed at random moments and started
 *    again on the same store.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testHooksOf } from '../../src/scheduler';
import { createScheduler } from '../../src/index';
import { SystemClock } from '../../src/runtime/clock';
import { FINAL_RUN_STATUSES } from '../../src/model/run';
import { Store } from '../../src/actors/persistence/store';
import { VirtualClock } from '../../src/testing';
import { checkSlots, Ledger, readStore } from '../helpers/ledger';
import { eventually, startDaemon, type DaemonHandle } from '../cli/harness';
import { pidsWithEnv, tempDir } from './helpers';

const BUDGET_S = Number(process.env.RAE_SCHED_SOAK_S ?? 60);
const SEED = Number(process.env.RAE_SCHED_SOAK_SEED ?? 8);
const JOBS = 100;
const INTERVALS_S = [1, 2, 3, 5];
const T0 = Date.parse('2030-01-01T00:00:00.000Z');

jest.setTimeout(Math.max(300, BUDGET_S * 4) * 1000);

/** mulberry32: a small seeded generator, so a failing soak can be replayed with its seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Spec = { name: string; schedule: string; everyMs: number; command?: string; module?: string; env?: Record<string, string>; retry: { maxRetries: number; backoffMs: number } };

/** 100 jobs: one in ten a real process (tagged, so a process left behind can be found), the rest module jobs. */
function jobSpecs(prefix: string, moduleFile: string, tag: string): Spec[] {
  return Array.from({ length: JOBS }, (_, i) => {
    const every = INTERVALS_S[i % INTERVALS_S.length]!;
    const base = { name: `${prefix}${i}`, schedule: `every ${every}s`, everyMs: every * 1000, retry: { maxRetries: 2, backoffMs: 500 } };
    return i % 10 === 0 ? { ...base, command: 'sleep 0.2', env: { CHAOS_TAG: tag } } : { ...base, module: moduleFile };
  });
}

const toAdd = ({ everyMs: _e, ...spec }: Spec) => spec;

/** The checker: walks the store of a stopped scheduler. */
async function check(dataDir: string, acknowledged: Map<string, number>, tag: string): Promise<void> {
  const store = await Store.open({ dataDir, readOnly: true });
  const ids = new Map(store.listJobs().map((j) => [j.name, j.id]));
  await store.close();
  // No acknowledged job lost.
  expect([...acknowledged.keys()].filter((name) => !ids.has(name))).toEqual([]);
  const { jobs, unfinished } = await readStore(dataDir, [...ids.values()]);
  // Every run in a final state (a graceful stop parks unstarted runs: those are not unfinished).
  expect(unfinished).toBe(0);
  const problems: string[] = [];
  for (const [name, everyMs] of acknowledged) {
    const stored = jobs.get(ids.get(name)!)!;
    expect(stored.slots.length).toBeGreaterThan(0);
    // No slot run twice, no slot missing between the first and the last, each fired slot's run final.
    for (const p of checkSlots(stored, everyMs)) problems.push(`${name}: ${p}`);
    for (const r of stored.runs) if (!FINAL_RUN_STATUSES.includes(r.status) && !stored.parked.has(r.id)) problems.push(`${name}: run ${r.id} is ${r.status}`);
  }
  expect(problems).toEqual([]);
  // No process left behind.
  await eventually(async () => (pidsWithEnv('CHAOS_TAG', tag).length === 0 ? true : undefined), 'no job process left', 15_000);
}

describe('chaos soak', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir('rae-chaos-')));
  afterEach(async () => cleanup());

  it(`in process: random actor crashes and handler bugs on a virtual clock (seed ${SEED})`, async () => {
    const random = seeded(SEED);
    const tag = `vc-${process.pid}-${SEED}`;
    const moduleFile = join(dir, 'noop.js');
    writeFileSync(moduleFile, 'module.exports = () => undefined;\n');
    const clock = new VirtualClock(T0);
    const s = await createScheduler({ dataDir: join(dir, 'data'), clock, maxConcurrentJobs: 32 });
    const ledger = new Ledger(s);
    const hooks = testHooksOf(s);
    const acknowledged = new Map<string, number>();
    try {
      for (const spec of jobSpecs('c', moduleFile, tag)) {
        await s.addJob(toAdd(spec));
        acknowledged.set(spec.name, spec.everyMs);
      }
      const actions: Array<[string, () => Promise<unknown> | void]> = [
        ...['monitor', 'persistence', 'parser', 'queue', 'executor', 'triggers', 'scheduler'].map((a): [string, () => Promise<unknown>] => [`fault ${a}`, () => hooks.fault(a)]),
        ['throw queue.armMany', () => hooks.throwIn('queue', 'armMany')],
        ['throw executor.startMany', () => hooks.throwIn('executor', 'startMany')],
        ['throw scheduler.slotsDue', () => hooks.throwIn('scheduler', 'slotsDue')],
        ['throw scheduler.runsFinished', () => hooks.throwIn('scheduler', 'runsFinished')],
      ];
      const done: string[] = [];
      const end = Date.now() + (BUDGET_S / 2) * 1000;
      let step = 0;
      while (Date.now() < end || step < 12) {
        step++;
        if (step % 3 === 0) {
          const [what, act] = random() < 0.15
            ? ['add a job', async () => {
              const every = INTERVALS_S[Math.floor(random() * INTERVALS_S.length)]!;
              const name = `late${step}`;
              await s.addJob({ name, schedule: `every ${every}s`, module: moduleFile, retry: { maxRetries: 2, backoffMs: 500 } });
              acknowledged.set(name, every * 1000);
            }] as [string, () => Promise<unknown>]
            : actions[Math.floor(random() * actions.length)]!;
          await act();
          done.push(what);
        }
        await clock.advance(1000);
        await ledger.quiet(() => clock.now(), async () => (await s.health()).components.store?.healthy === false, 60_000);
      }
      // Calm steps: retries of runs interrupted by the last crash finish.
      for (let i = 0; i < 5; i++) {
        await clock.advance(1000);
        await ledger.quiet(() => clock.now(), async () => false, 60_000);
      }
      process.stderr.write(`[chaos] in process, seed ${SEED}: ${step} virtual seconds, ${done.length} actions: ${done.join(', ')}\n`);
      expect(hooks.children().every((c) => c.running)).toBe(true);
      expect(done.some((d) => d.startsWith('fault') || d.startsWith('throw'))).toBe(true);
    } finally {
      await s.shutdown({ graceMs: 10_000 });
      ledger.stop();
    }
    for (const [slot, outcomes] of ledger.slotOutcomes) expect([slot, outcomes.length]).toEqual([slot, 1]);
    await check(join(dir, 'data'), acknowledged, tag);
  });

  it(`the real daemon kill -9ed at random moments and restarted (seed ${SEED})`, async () => {
    const random = seeded(SEED + 1);
    const tag = `k9-${process.pid}-${SEED}`;
    const moduleFile = join(dir, 'noop.js');
    writeFileSync(moduleFile, 'module.exports = () => undefined;\n');
    const data = join(dir, 'data');
    const acknowledged = new Map<string, number>();
    // The jobs go in through the library (100 CLI processes would take longer than the soak).
    const s = await createScheduler({ dataDir: data, clock: new SystemClock(), mode: 'offline' });
    for (const spec of jobSpecs('d', moduleFile, tag)) {
      await s.addJob(toAdd(spec));
      acknowledged.set(spec.name, spec.everyMs);
    }
    await s.shutdown({ graceMs: 0 });
    const end = Date.now() + (BUDGET_S / 2) * 1000;
    let d: DaemonHandle | null = null;
    let kills = 0;
    try {
      while (Date.now() < end || kills < 2) {
        d = await startDaemon(data);
        await new Promise((r) => setTimeout(r, 1000 + random() * 2000));
        d.child.kill('SIGKILL');
        expect(await d.exited).toBe('SIGKILL');
        kills++;
      }
      // A last life that ends gracefully: what it recovered, it finishes.
      d = await startDaemon(data);
      await new Promise((r) => setTimeout(r, 3000));
      expect(await d.stop()).toBe(0);
      process.stderr.write(`[chaos] real daemon, seed ${SEED}: ${kills} kill -9s\n`);
    } finally {
      if (d !== null && d.child.exitCode === null && d.child.signalCode === null) {
        d.child.kill('SIGKILL');
        await d.exited;
      }
    }
    await check(data, acknowledged, tag);
  });
});
