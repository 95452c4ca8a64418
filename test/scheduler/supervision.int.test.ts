/**
 * Let it crash, with the real actors of our tree (issue 8): each child of the root supervisor —
 * persistence and parser (worker threads), monitor, queue, executor, triggers (main thread, or each
 * in its own thread in the `threads` project) and scheduler (main thread) — crashed from outside
 * (`system.fault`: a thread actor's worker is terminated), by a plain Error thrown in one of its
 * handlers (a bug: `onUnexpectedError: 'crash'`; once, or several times in a row across restarts),
 * or by a handler hung past its deadline. Its supervisor restarts it whole: the queue's timeline is
 * re-armed, runs the executor or the scheduler had in flight are recorded `interrupted` and retried
 * by policy. A handler running late (a delay) slows the actor without a restart. After each: every
 * job keeps firing, every slot has exactly one outcome, nothing acknowledged is lost, no run is left
 * unfinished, health shows a fault that lasts while it lasts and clears after. Virtual clock, real
 * LMDB, real threads and processes.
 */
import { join } from 'node:path';
import type { Scheduler } from '../../src/api';
import { testHooksOf, type InternalOptions } from '../../src/scheduler';
import { checkSlots, Ledger, readStore } from '../helpers/ledger';
import { useSchedulers } from '../helpers/scheduler';
import { eventually } from '../cli/harness';
import { until } from '../helpers/until';
import { pidsWithEnv } from '../faults/helpers';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const JOBS = 4;

type Hooks = ReturnType<typeof testHooksOf>;

/**
 * Heartbeats often and with a short deadline, for the scenarios that show health during a fault
 * that lasts (a hang, a delay, repeated throws): the faulty actor's heartbeat waits behind the
 * stuck message, or fails, within a few hundred ms of real time.
 */
const FAST_HEALTH = { heartbeatEveryMs: 100, heartbeatTimeoutMs: 300 };


/** Options of a scenario beyond the scheduler's. */
interface ScenarioOptions {
  /** The fault crashes the actor (else it only slows it: a delay). @default true */
  restarts?: boolean;
  /** Poll health in the background and return every detail it showed for the faulty actor. */
  watchHealth?: boolean;
}

/**
 * Every scenario runs in both placements: here (queue, executor, monitor, triggers on the main
 * thread) and in the `threads` jest project (each in its own worker thread). Faults are injected by
 * the system's one CrashInjector and reach a handler wherever it runs (src/runtime/crash-injection.ts).
 */
describe('supervision of the real actors (one_for_one, permanent)', () => {
  const fixture = useSchedulers();

  async function scenario(actor: string, inject: (hooks: Hooks, s: Scheduler) => Promise<void> | void, command = 'true', more: Partial<InternalOptions> = {},
    so: ScenarioOptions = {}) {
    const { s, clock } = await fixture.open(T0, { maxConcurrentJobs: 8, ...more });
    const ledger = new Ledger(s);
    const restarted: string[] = [];
    s.events$.subscribe((e) => { if (e.type === 'actor.restarted') restarted.push(e.actor); });
    const hooks = testHooksOf(s);
    const restarts = (): number => hooks.children().find((c) => c.id === actor)!.restarts;
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      ids.push((await s.addJob({ name: `j${i}`, schedule: 'every 1s', command, retry: { maxRetries: 1, backoffMs: 500 } })).id);
    }
    const step = async (): Promise<void> => {
      await clock.advance(1000);
      await ledger.quiet(() => clock.now(), async () => (await s.health()).components.store?.healthy === false);
    };
    for (let i = 0; i < 3; i++) await step();
    const before = restarts();
    // What health said about the actor while the fault lasted (real time: the fault is real time).
    const sick: string[] = [];
    let watching = so.watchHealth === true;
    const watcher = (async () => {
      while (watching) {
        const c = (await s.health()).components[actor];
        if (c?.healthy === false) sick.push(c.detail ?? 'unhealthy');
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    await inject(hooks, s);
    // Acknowledged after the crash too: a job added while the actor restarts is kept.
    const late = (await s.addJob({ name: 'late', schedule: 'every 1s', command: 'true' })).id;
    for (let i = 0; i < 6; i++) await step();
    const end = clock.now();
    if (so.restarts === false) expect(restarts()).toBe(before);
    else expect(restarts()).toBeGreaterThan(before);
    expect(hooks.children().every((c) => c.running)).toBe(true);
    // The fault is over: health clears (heartbeats are real time; a loaded machine may be slow).
    const health = await until('health to clear for the actor', () => s.health(), (h) => h.components[actor]?.healthy === true, 30_000);
    watching = false;
    await watcher;
    const children = Object.fromEntries(hooks.children().map((c) => [c.id, c.restarts]));
    await s.shutdown({ graceMs: 5000 });
    const { jobs, unfinished } = await readStore(fixture.dir(), [...ids, late]);
    expect(unfinished).toBe(0);
    for (const id of [...ids, late]) {
      const stored = jobs.get(id)!;
      expect(checkSlots(stored, 1000)).toEqual([]);
      // Every second up to the end has its slot (nothing lost), and the last slot fired and ran.
      expect(Date.parse(stored.slots[stored.slots.length - 1]!.at)).toBe(end);
      const last = stored.slots[stored.slots.length - 1]!;
      expect(last.outcome).toBe('fired');
      expect(stored.runs.find((r) => r.id === last.runId)?.status).toBe('succeeded');
      // An interrupted run (it was in flight at the crash) was retried, per its policy.
      const interrupted = stored.runs.filter((x) => x.status === 'interrupted' && x.attempt === 1).length;
      const retried = id === late ? interrupted : stored.runs.filter((x) => x.trigger === 'retry' && x.attempt === 2).length;
      expect(retried).toBe(interrupted);
    }
    for (const id of ids) expect(jobs.get(id)!.slots[0]!.at).toBe(new Date(T0 + 1000).toISOString());
    // Each slot's outcome was published once.
    for (const [slot, outcomes] of ledger.slotOutcomes) expect([slot, outcomes.length]).toEqual([slot, 1]);
    ledger.stop();
    return { ledger, health, jobs, restarted, children, sick };
  }

  it.each(['monitor', 'persistence', 'parser', 'queue', 'executor', 'triggers', 'scheduler'])('%s crashed from outside (its thread killed, or its incarnation ended) comes back whole', async (actor) => {
    await scenario(actor, async (h) => {
      expect(await h.fault(actor)).toBe(true);
    });
  }, 120_000);

  // persistence.commitBatch: the scheduler's commits in flight at the crash fail ACTOR_DEAD and its
  // committer retries them against the new thread (the store reopened): nothing acknowledged lost.
  it.each([
    ['queue', 'armMany'],
    ['executor', 'startMany'],
    ['scheduler', 'slotsDue'],
    ['scheduler', 'runsFinished'],
    ['monitor', 'observe'],
    ['persistence', 'commitBatch'],
  ] as const)('an unexpected error in %s.%s crashes it; it restarts rebuilt from the store and its peers', async (actor, type) => {
    await scenario(actor, (h) => h.throwIn(actor, type));
  }, 120_000);

  // The parser's one message in use is `parse` (an add's schedule text): the add whose parse met
  // the bug fails ACTOR_DEAD (not acknowledged: nothing stored), the parser restarts, and the same
  // add again is served. ('every 2s': the scheduler does not ask again for text it already accepted.)
  it('an unexpected error in parser.parse crashes it: that add fails ACTOR_DEAD, the parser restarts, the add again is served', async () => {
    await scenario('parser', async (h, s) => {
      h.throwIn('parser', 'parse');
      await expect(s.addJob({ name: 'two', schedule: 'every 2s', command: 'true' })).rejects.toMatchObject({ code: 'ACTOR_DEAD' });
      await expect(s.getJob('two')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await s.addJob({ name: 'two', schedule: 'every 2s', command: 'true' });
    });
  }, 120_000);

  // A hung handler (a promise that never settles; in a thread, its worker stuck on the message):
  // past its hang deadline (real time, 1.5 s here) the actor is crashed and restarted like any
  // crash (a thread actor's worker is terminated); the stuck message's sender gets ACTOR_DEAD.
  // `clock.advance` waits for it: the hung actor is busy. While it hangs, its heartbeat waits
  // behind the stuck message: health shows it (no answer within 300 ms), then clears.
  // The thread actors hang on their heartbeat (a worker stuck on a message; the parser and the
  // triggers get no other message here, and persistence serves several messages at once, so only a
  // stuck heartbeat holds the one health waits for); a stuck store write is the commitBatch row.
  // The monitor's `observe` holds its mailbox, so `health` (which it serves) waits: the scheduler
  // answers for it.
  const NO_ANSWER = /no heartbeat answer for \d+ ms|restarting/;
  it.each([
    ['queue', 'armMany', NO_ANSWER],
    ['executor', 'startMany', NO_ANSWER],
    ['scheduler', 'slotsDue', NO_ANSWER],
    ['scheduler', 'runsFinished', NO_ANSWER],
    ['persistence', 'heartbeat', NO_ANSWER],
    // Its heartbeat is answered beside the stuck write (several messages at once): health shows the
    // restart that the watchdog makes of it (measured: "not running" until the store is reopened).
    ['persistence', 'commitBatch', /not running|restarting/],
    ['parser', 'heartbeat', NO_ANSWER],
    ['triggers', 'heartbeat', NO_ANSWER],
    ['monitor', 'observe', /no heartbeat answer for \d+ ms|restarting|the monitor did not answer within/],
  ] as const)('%s.%s hanging past its deadline: the actor is restarted, rebuilt, nothing lost; health shows it while it hangs', async (actor, type, shows) => {
    const { health, sick } = await scenario(actor, (h) => h.throwIn(actor, type, 1, 'hang'), 'true', { hangAfterMs: 1500, health: FAST_HEALTH }, { watchHealth: true });
    expect(sick).toContainEqual(expect.stringMatching(shows));
    expect(health.components[actor]?.healthy).toBe(true);
  }, 120_000);

  // A slow handler (1.5 s late, under the hang deadline): no restart, nothing lost; health shows the
  // late heartbeat while it lasts.
  it.each([
    ['queue', 'armMany'],
    ['executor', 'startMany'],
    ['monitor', 'observe'],
  ] as const)('%s.%s running late: no restart, nothing lost; health shows it while it lasts', async (actor, type) => {
    const { sick } = await scenario(actor, (h) => h.throwIn(actor, type, 1, { delayMs: 1500 }), 'true', { health: FAST_HEALTH },
      { restarts: false, watchHealth: true });
    // (A monitor in a thread too busy to answer `health` is reported by the scheduler instead.)
    expect(sick).toContainEqual(expect.stringMatching(/no heartbeat answer for \d+ ms|the monitor did not answer within/));
  }, 120_000);

  // A fault that lasts across restarts: the heartbeat handler throws 3 times in a row (each throw
  // crashes an incarnation, the next one gets the next throw).
  it.each(['queue', 'executor', 'monitor', 'triggers', 'persistence', 'parser'])('%s.heartbeat throwing 3 times: 3 restarts, health shows the failure while it lasts, nothing lost', async (actor) => {
    // The 3 crashes come with real-time heartbeats: wait for them before the steps go on, so a run
    // interrupted by the last one has been retried before the last slot (else overlap skips it).
    const { children, sick } = await scenario(actor, async (h) => {
      const before = h.children().find((c) => c.id === actor)!.restarts;
      h.throwIn(actor as 'queue', 'heartbeat', 3);
      await until(`3 restarts of ${actor}`, () => h.children(), (cs) => cs.find((c) => c.id === actor)!.restarts >= before + 3
        && cs.every((c) => c.running), 60_000);
    // A long heartbeat deadline here: the throws answer at once, and on a loaded machine a 300 ms
    // deadline can pass first, so health would show a late answer instead of the crash.
    }, 'true', { health: { heartbeatEveryMs: 100, heartbeatTimeoutMs: 3000 } }, { watchHealth: true });
    expect(children[actor]).toBe(3);
    expect(sick).toContainEqual(expect.stringMatching(new RegExp(`heartbeat failed: actor '${actor}' crashed: .*injected crash|restarting`)));
  }, 120_000);

  // With fires committed ahead, the hung `committed` carried the answer for the next slot's fires:
  // the new incarnation re-claims them from the store and announces them (`run.queued`) again, so
  // the ledger waits for them as for any run (they used to start unannounced, and the steps ran on
  // while they did: overlap `skip` then rightly skipped the slots they were still running for).
  it('scheduler.committed hanging past its deadline: the actor is restarted, rebuilt, nothing lost', async () => {
    // 1.5 s as the other hang cases: the deadline is every actor's, and at load 15+ a real LMDB
    // insert took over 400 ms (persistence was restarted as hung under the add).
    const { health } = await scenario('scheduler', (h) => h.throwIn('scheduler', 'committed', 1, 'hang'), 'true', { hangAfterMs: 1500 });
    expect(health.components.scheduler?.healthy).toBe(true);
  }, 120_000);

  it('runs in flight when the scheduler crashes are interrupted, their processes killed, and retried', async () => {
    const { ledger } = await scenario('scheduler', async (h) => {
      // Crash while every job's run sleeps (0.5 s of real time): they are all in flight.
      h.throwIn('scheduler', 'runsFinished');
    }, 'sleep 0.3');
    const interrupted = [...ledger.finished.values()].filter((r) => r.status === 'interrupted');
    expect(interrupted.length).toBeGreaterThan(0);
    expect(interrupted.every((r) => /stopped|restarted|crashed/.test(r.error ?? ''))).toBe(true);
  }, 120_000);

  it.each(['executor', 'scheduler'])('a run in flight when the %s crashes: its process is killed, it is recorded interrupted and retried', async (actor) => {
    const { s, clock } = await fixture.open(T0, { maxConcurrentJobs: 8 });
    const hooks = testHooksOf(s);
    const marker = join(fixture.dir(), 'attempted');
    const tag = `sup-${actor}-${process.pid}`;
    // First attempt: leaves a marker and hangs; the retry finds the marker and succeeds.
    await s.addJob({ name: 'long', schedule: 'never', command: `if [ -e ${marker} ]; then exit 0; fi; touch ${marker}; sleep 300`,
      env: { SUP_TAG: tag }, retry: { maxRetries: 1, backoffMs: 500 } });
    const run = await s.runNow('long');
    await eventually(async () => (pidsWithEnv('SUP_TAG', tag).length > 0 ? true : undefined), 'the run executing', 30_000);
    const retried = new Promise<string>((resolve) => {
      const sub = s.events$.subscribe((e) => {
        if (e.type === 'run.finished' && e.run.trigger === 'retry') {
          sub.unsubscribe();
          resolve(e.run.status);
        }
      });
    });
    expect(await hooks.fault(actor)).toBe(true);
    // Its process goes at once (not after its 300 s).
    await eventually(async () => (pidsWithEnv('SUP_TAG', tag).length === 0 ? true : undefined), 'the run\'s process to be killed', 20_000);
    const interrupted = await eventually(async () => {
      const h = await s.history('long');
      return h.find((r) => r.id === run.id && r.status === 'interrupted');
    }, 'the run to be recorded interrupted', 20_000);
    expect(interrupted.error).toMatch(/crashed|stopped/);
    // The retry waits out its backoff on the virtual clock, then runs (and succeeds).
    await clock.advance(1000);
    expect(await retried).toBe('succeeded');
    const h = await s.history('long');
    expect(h).toHaveLength(2);
    expect(hooks.children().find((c) => c.id === actor)!.restarts).toBe(1);
  }, 120_000);

  // The tree as built (src/scheduler-tree.ts): root one_for_one [monitor, persistence, parser,
  // triggers, engine]; engine rest_for_one [scheduler, workers]; workers one_for_one [queue, executor].
  const others = ['monitor', 'persistence', 'parser', 'triggers'];

  it('the tree is nested as documented', async () => {
    const { s } = await fixture.open(T0);
    const shape = (n: ReturnType<Hooks['tree']>): unknown => (n.kind === 'group' ? { [`${n.id} ${n.strategy}`]: n.children.map(shape) } : n.id);
    expect(shape(testHooksOf(s).tree())).toEqual({ 'root one_for_one': ['monitor', 'persistence', 'parser', 'triggers',
      { 'engine rest_for_one': ['scheduler', { 'workers one_for_one': ['queue', 'executor'] }] }] });
  });

  it('rest_for_one: the scheduler crashes, the queue and the executor restart after it; nothing else restarts', async () => {
    const { restarted, children } = await scenario('scheduler', (h) => h.throwIn('scheduler', 'slotsDue'));
    expect(restarted).toEqual(['scheduler', 'queue', 'executor']);
    expect(children).toMatchObject({ scheduler: 1, queue: 1, executor: 1, monitor: 0, persistence: 0, parser: 0, triggers: 0 });
  }, 120_000);

  it.each(['queue', 'executor'])('one_for_one among the workers: the %s restarts alone', async (actor) => {
    const { restarted, children } = await scenario(actor, async (h) => { await h.fault(actor); });
    expect(restarted).toEqual([actor]);
    for (const other of [...others, 'scheduler', 'queue', 'executor'].filter((a) => a !== actor)) expect([other, children[other]]).toEqual([other, 0]);
  }, 120_000);

  it('workers past their intensity (4 queue crashes at once): the engine restarts the whole workers group, not the scheduler', async () => {
    const { restarted, children } = await scenario('queue', (h) => h.throwIn('queue', 'armMany', 4));
    // 3 restarts of the queue alone, then the group gave up and was restarted: queue and executor.
    expect(restarted).toEqual(['queue', 'queue', 'queue', 'queue', 'executor']);
    expect(children).toMatchObject({ queue: 4, executor: 1, scheduler: 0, monitor: 0, persistence: 0, parser: 0, triggers: 0 });
  }, 120_000);

  it('the engine past its intensity (4 scheduler crashes within 10 s): the root restarts the whole engine; its siblings stay', async () => {
    const { restarted, children } = await scenario('scheduler', (h) => h.throwIn('scheduler', 'slotsDue', 4));
    expect(restarted.filter((a) => a === 'scheduler')).toHaveLength(4);
    expect(children).toMatchObject({ scheduler: 4, queue: 4, executor: 4, monitor: 0, persistence: 0, parser: 0, triggers: 0 });
  }, 120_000);
});
