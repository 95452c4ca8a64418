/**
 * Fires committed ahead of their slot (src/actors/scheduler/fires-ahead.ts, docs/architecture.md
 * "Fires committed ahead"): the slot's record is durable before its time and the run starts at the
 * time itself; a pause inside the lead window withdraws it durably; a crash (`kill -9` of a real
 * scheduler process) inside the lead window leaves a fire that runs once at its time after a
 * restart before it, and is `interrupted` — never run twice — after a restart past it. Virtual
 * clocks, real LMDB, real processes.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { LeadWindow } from '../../src/actors/scheduler/preclaims';
import { PAUSED_REASON } from '../../src/actors/scheduler/fires-ahead';
import { checkSlots, Ledger, readStore } from '../helpers/ledger';
import { nextEvents, useSchedulers } from '../helpers/scheduler';
import type { SchedulerEvent } from '../../src/model/events';
import { testHooksOf, type InternalOptions } from '../../src/scheduler';
import { openTables } from '../../src/actors/persistence/tables';
import { Store } from '../../src/actors/persistence/store';
import { eventually } from '../cli/harness';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const S = T0 + 10_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const started = (e: SchedulerEvent): e is Extract<SchedulerEvent, { type: 'run.started' }> => e.type === 'run.started';

describe('fires committed ahead of their slot', () => {
  const h = useSchedulers();

  it('the slot and its run are durable before the slot\'s time; the run starts at the time itself', async () => {
    const { s, clock, runs } = await h.open(T0);
    const ledger = new Ledger(s);
    const starts: number[] = [];
    const sub = s.events$.subscribe((e) => { if (e.type === 'run.started') starts.push(clock.now()); });
    const job = await s.addJob({ name: 'tick', schedule: 'every 10s', command: 'true' });
    await clock.advance(10_000 - 100); // inside the lead window (at least LeadWindow.MIN_MS)
    expect(LeadWindow.MIN_MS).toBeGreaterThan(100);
    const why = await s.why(job.id);
    expect(why.slots.map((sl) => [sl.at, sl.outcome])).toEqual([[iso(S), 'fired']]);
    const [queued] = await s.history(job.id);
    expect(queued).toMatchObject({ status: 'queued', scheduledAt: iso(S), startedAt: null });
    expect(starts).toEqual([]);
    await clock.advance(100);
    const [run] = await runs.wait(1);
    expect(run).toMatchObject({ id: queued!.id, status: 'succeeded', startedAt: iso(S) });
    expect(starts).toEqual([S]);
    await clock.advance(10_000);
    await runs.wait(2);
    expect(starts).toEqual([S, S + 10_000]);
    // One outcome per slot, published once (at the slot's time, not when it was committed).
    expect([...ledger.slotOutcomes.values()]).toEqual([['fired'], ['fired']]);
    sub.unsubscribe();
    ledger.stop();
  });

  it('fires write no schedule state (schema 4): a restart takes the watermark from the newest slot — nothing missed, nothing twice', async () => {
    const a = await h.open(T0);
    const job = await a.s.addJob({ name: 'derived', schedule: 'every 10s', command: 'true' });
    for (let n = 1; n <= 3; n++) {
      await a.clock.advance(10_000);
      await a.runs.wait(n);
    }
    await a.s.shutdown();
    // The stored state is still the one written at insert (no put per fire) ...
    const t = openTables(h.dir(), true);
    try {
      expect(t.states.get(job.id)).toMatchObject({ lastSlotAt: null, nextRunAt: iso(S) });
    } finally {
      await t.env.close();
    }
    // ... and reads as the newest slot (S + 20 s written off by the stop, or fired ahead of it).
    const store = await Store.open({ dataDir: h.dir(), readOnly: true });
    const newest = store.listSlots(job.id, 1)[0]!.at;
    expect(store.getScheduleState(job.id)!.lastSlotAt).toBe(newest);
    await store.close();
    const b = await h.open(Date.parse(newest) + 5_000);
    await b.clock.advance(5_000);
    await b.runs.wait(1);
    await b.s.shutdown();
    const { jobs } = await readStore(h.dir(), [job.id]);
    const stored = jobs.get(job.id)!;
    expect(checkSlots(stored, 10_000)).toEqual([]);
    expect(stored.slots.filter((sl) => sl.outcome === 'missed')).toEqual([]);
    expect(stored.slots.at(-1)!.at).toBe(iso(Date.parse(newest) + 10_000));
  });

  it('a pause inside the lead window withdraws the slot durably: skipped, never run, not fired again on resume', async () => {
    const { s, clock, runs } = await h.open(T0);
    const ledger = new Ledger(s);
    const job = await s.addJob({ name: 'paused', schedule: 'every 10s', command: 'true' });
    await clock.advance(10_000 - 100);
    expect((await s.why(job.id)).slots.map((sl) => sl.outcome)).toEqual(['fired']);
    await s.pauseJob(job.id);
    await clock.advance(1_000);
    const [skipped] = await runs.wait(1);
    expect(skipped).toMatchObject({ status: 'skipped', scheduledAt: iso(S), startedAt: null, error: PAUSED_REASON });
    const why = await s.why(job.id);
    expect(why.slots.map((sl) => [sl.at, sl.outcome, sl.runId, sl.reason])).toEqual([[iso(S), 'skipped', skipped!.id, PAUSED_REASON]]);
    await s.resumeJob(job.id);
    await clock.advance(10_000);
    const [, next] = await runs.wait(2);
    expect(next).toMatchObject({ status: 'succeeded', trigger: 'schedule' });
    expect(Date.parse(next!.scheduledAt)).toBeGreaterThan(S);
    for (const outcomes of ledger.slotOutcomes.values()) expect(outcomes).toHaveLength(1);
    ledger.stop();
  });

  it('the overlap policy is applied at the slot\'s time: a manual run started after the commit makes the slot skip', async () => {
    const { s, clock, runs } = await h.open(T0);
    const job = await s.addJob({ name: 'busy', schedule: 'every 10s', command: 'sleep 30' });
    await clock.advance(10_000 - 100); // slot S committed ahead: nothing was running then
    const manualStarted = nextEvents(s.events$, started);
    const manual = await s.runNow(job.id);
    await manualStarted;
    await clock.advance(100);
    const [skipped] = await runs.wait(1);
    expect(skipped).toMatchObject({ status: 'skipped', trigger: 'schedule', scheduledAt: iso(S), error: expect.stringMatching(/still running/) });
    expect((await s.why(job.id)).slots.map((sl) => [sl.outcome, sl.runId])).toEqual([['skipped', skipped!.id]]);
    expect((await s.history(job.id)).find((r) => r.id === manual.id)?.status).toBe('running');
  });
});

describe('kill -9 inside the lead window', () => {
  const h = useSchedulers();

  /** Runs the child until its slot S is committed ahead, then kills it. */
  async function crashAhead(dir: string): Promise<void> {
    const child = spawn(process.execPath, [path.join(__dirname, '../helpers/ahead-child.js'), dir, String(T0)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the child scheduler never committed its slot ahead')), 60_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.startsWith('started')) reject(new Error('the child started a run before its slot'));
        if (line !== 'committed') return;
        clearTimeout(t);
        child.kill('SIGKILL');
        resolve();
      });
    });
    await new Promise((r) => child.once('exit', r));
  }

  it('restarted before the slot: the committed fire runs once, at its time', async () => {
    await crashAhead(h.dir());
    const { s, clock, runs } = await h.open(S - 50);
    const [job] = await s.listJobs();
    const [queued] = await s.history(job!.id);
    expect(queued).toMatchObject({ status: 'queued', scheduledAt: iso(S) });
    await clock.advance(50);
    const [run] = await runs.wait(1);
    expect(run).toMatchObject({ id: queued!.id, status: 'succeeded', startedAt: iso(S) });
    await clock.advance(10_000);
    await runs.wait(2);
    await s.shutdown({ graceMs: 5000 });
    const stored = (await readStore(h.dir(), [job!.id])).jobs.get(job!.id)!;
    expect(checkSlots(stored, 10_000)).toEqual([]);
    expect(stored.runs.map((r) => [r.scheduledAt, r.status]).sort()).toEqual([[iso(S), 'succeeded'], [iso(S + 10_000), 'succeeded']]);
  });

  it('restarted after the slot: the committed fire is interrupted (it may have started), not run again', async () => {
    await crashAhead(h.dir());
    const { s, clock, runs } = await h.open(S + 2_000);
    const [job] = await s.listJobs();
    // Recovered during start-up (before the scheduler was handed over).
    expect((await s.history(job!.id)).map((r) => [r.scheduledAt, r.status])).toEqual([[iso(S), 'interrupted']]);
    await clock.advance(10_000);
    const [next] = await runs.wait(1);
    expect(next).toMatchObject({ status: 'succeeded', scheduledAt: iso(S + 10_000) });
    await s.shutdown({ graceMs: 5000 });
    const stored = (await readStore(h.dir(), [job!.id])).jobs.get(job!.id)!;
    expect(checkSlots(stored, 10_000)).toEqual([]);
    expect(stored.runs.filter((r) => r.scheduledAt === iso(S))).toHaveLength(1);
  });
});

describe('the scheduler restarted inside the lead window (the same process)', () => {
  const h = useSchedulers();

  // The ghost run of issue 8: the incarnation that committed the fire hung in `committed` (its
  // answer), so it never announced the run; the next one re-claimed it from the store silently, and
  // the run started unannounced — a subscriber waiting for what is queued went on without it.
  it('a fire whose commit answer died with its incarnation is re-claimed and announced, then runs once at its time', async () => {
    const { s, clock, runs } = await h.open(T0, { hangAfterMs: 400, placement: { queue: 'main', executor: 'main', monitor: 'main', triggers: 'main' } } as InternalOptions);
    const ledger = new Ledger(s);
    const order: string[] = [];
    const sub = s.events$.subscribe((e) => {
      if ((e.type === 'run.queued' || e.type === 'run.started' || e.type === 'run.finished') && e.run.scheduledAt === iso(S)) order.push(e.type);
      if (e.type === 'actor.restarted') order.push(`${e.type} ${e.actor}`);
    });
    const job = await s.addJob({ name: 'ahead', schedule: 'every 10s', command: 'true' });
    // The next commit answer is S's fire, committed ahead: the scheduler hangs on it and is restarted.
    testHooksOf(s).throwIn('scheduler', 'committed', 1, 'hang');
    await clock.advance(10_000 - 100);
    await eventually(async () => (order.includes('run.queued') ? true : undefined), 'the re-claimed fire to be announced', 20_000);
    // Announced by the new incarnation (the old one died before it could).
    expect(order.indexOf('actor.restarted scheduler')).toBeLessThan(order.indexOf('run.queued'));
    const [queued] = await s.history(job.id);
    expect(queued).toMatchObject({ status: 'queued', scheduledAt: iso(S), startedAt: null });
    expect(ledger.open(clock.now() + 100)).toBe(1);
    await clock.advance(100);
    const [run] = await runs.wait(1);
    expect(run).toMatchObject({ id: queued!.id, status: 'succeeded', startedAt: iso(S) });
    expect(ledger.open(clock.now())).toBe(0);
    expect(order.filter((t) => t.startsWith('run.'))).toEqual(['run.queued', 'run.started', 'run.finished']);
    await clock.advance(10_000);
    await runs.wait(2);
    await s.shutdown({ graceMs: 5000 });
    const stored = (await readStore(h.dir(), [job.id])).jobs.get(job.id)!;
    expect(checkSlots(stored, 10_000)).toEqual([]);
    expect(stored.runs.map((r) => [r.scheduledAt, r.status])).toEqual([[iso(S), 'succeeded'], [iso(S + 10_000), 'succeeded']]);
    sub.unsubscribe();
    ledger.stop();
  }, 60_000);
});
