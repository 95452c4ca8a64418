/**
 * Test helper: watches a scheduler's events and, afterwards, reads its store to check the run
 * path's invariants — every slot accounted for exactly once, no slot run twice, every run final.
 */
import type { Subscription } from 'rxjs';
import { Store } from '../../src/actors/persistence/store';
import { FINAL_RUN_STATUSES, type Run, type Slot } from '../../src/model/run';
import type { Scheduler } from '../../src/index';

/** What the events said, per run and per job. */
export class Ledger {
  readonly queued = new Map<string, Run>();
  readonly finished = new Map<string, Run>();
  /** (job, slot) → outcomes published (deduped ones excluded). */
  readonly slotOutcomes = new Map<string, string[]>();
  /**
   * Most runs of one job seen running at once, by event order. A run's `run.finished` waits for its
   * final record to be durable while the next run may already start (its process ended first), so
   * this can exceed what really ran at once: see {@link mostAtOnce} for that.
   */
  readonly maxRunning = new Map<string, number>();
  readonly #running = new Map<string, Set<string>>();
  readonly #sub: Subscription;

  constructor(s: Scheduler) {
    this.#sub = s.events$.subscribe((e) => {
      if (e.type === 'run.queued') this.queued.set(e.run.id, e.run);
      if (e.type === 'run.started') {
        const set = this.#running.get(e.run.jobId) ?? new Set<string>();
        set.add(e.run.id);
        this.#running.set(e.run.jobId, set);
        this.maxRunning.set(e.run.jobId, Math.max(this.maxRunning.get(e.run.jobId) ?? 0, set.size));
      }
      if (e.type === 'run.finished') {
        this.finished.set(e.run.id, e.run);
        this.#running.get(e.run.jobId)?.delete(e.run.id);
      }
      if (e.type === 'slot.recorded' && e.slot.outcome !== 'deduped') {
        const k = `${e.slot.jobId} ${e.slot.at}`;
        this.slotOutcomes.set(k, [...(this.slotOutcomes.get(k) ?? []), e.slot.outcome]);
      }
    });
  }

  /**
   * Most finished runs of the job whose executions overlapped, from their recorded times: a run
   * that started before another one's `finishedAt` ran beside it.
   */
  mostAtOnce(jobId: string): number {
    const spans = [...this.finished.values()]
      .filter((r) => r.jobId === jobId && r.startedAt !== null && r.finishedAt !== null)
      .map((r) => [Date.parse(r.startedAt!), Date.parse(r.finishedAt!)] as const);
    let most = 0;
    for (const [start] of spans) {
      most = Math.max(most, spans.filter(([s, f]) => s <= start && start < f).length);
    }
    return most;
  }

  /** Runs queued (durable) and due by `now` that have not finished yet (retries wait for their time). */
  open(now = Infinity): number {
    let n = 0;
    for (const [id, r] of this.queued) if (!this.finished.has(id) && Date.parse(r.scheduledAt) <= now) n++;
    return n;
  }

  /**
   * Waits (real time, polling) until every queued run due by `now()` has finished, or `stalled()`
   * says the rest waits for virtual time (a commit retry's backoff).
   */
  async quiet(now: () => number = () => Infinity, stalled: () => Promise<boolean> = async () => false,
    deadlineMs = 20_000): Promise<void> {
    const end = Date.now() + deadlineMs;
    while (this.open(now()) > 0) {
      if (await stalled()) return;
      if (Date.now() > end) throw new Error(`${this.open(now())} queued runs never finished`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  stop(): void {
    this.#sub.unsubscribe();
  }
}

/** A job's slots and runs as stored. */
export interface StoredJob {
  slots: Slot[];
  runs: Run[];
  /** Runs a graceful stop parked unstarted (queued again at the next start). */
  parked: Set<string>;
}

/** Reads every job's slots and runs from a (stopped) scheduler's store. */
export async function readStore(dataDir: string, jobIds: string[]): Promise<{ jobs: Map<string, StoredJob>; unfinished: number }> {
  const store = await Store.open({ dataDir, readOnly: true });
  try {
    const jobs = new Map<string, StoredJob>();
    const parked = new Set(store.unfinishedRuns().filter((u) => u.parked).map((u) => u.run.id));
    for (const id of jobIds) {
      jobs.set(id, {
        slots: store.listSlots(id, 100_000).reverse(),
        runs: store.listRuns(id, 100_000).reverse(),
        parked,
      });
    }
    // Runs a graceful stop parked unstarted are unfinished by design (queued again at the next start).
    return { jobs, unfinished: store.unfinishedRuns().filter((u) => !u.parked).length };
  } finally {
    await store.close();
  }
}

/**
 * The invariants, per job: slots every `everyMs` from the first to the last with no gap (each
 * exactly once: the store's key; a missed range counts as its `count` slots from `firstAt` to `at`), a fired slot's run exists, is final (or parked unstarted by a
 * graceful stop) and is for that slot, no
 * slot has two scheduled runs. Returns the problems found (empty: all held).
 */
export function checkSlots(stored: StoredJob, everyMs: number): string[] {
  const problems: string[] = [];
  // A missed range (Slot.firstAt, count) stands for `count` slots every `everyMs` from firstAt to at.
  for (const s of stored.slots) {
    if (s.firstAt === undefined) continue;
    const n = s.count ?? 1;
    if (s.outcome !== 'missed') problems.push(`slot range ${s.firstAt}..${s.at} is ${s.outcome}, only missed slots form ranges`);
    if (Date.parse(s.at) - Date.parse(s.firstAt) !== (n - 1) * everyMs) problems.push(`slot range ${s.firstAt}..${s.at} does not hold its ${n} slots`);
  }
  for (let i = 1; i < stored.slots.length; i++) {
    const prev = stored.slots[i - 1]!;
    const cur = stored.slots[i]!;
    if (Date.parse(cur.firstAt ?? cur.at) - Date.parse(prev.at) !== everyMs) problems.push(`gap between slots ${prev.at} and ${cur.firstAt ?? cur.at}`);
  }
  const runs = new Map(stored.runs.map((r) => [r.id, r]));
  for (const slot of stored.slots) {
    if (slot.outcome !== 'fired' && slot.outcome !== 'caught-up') continue;
    const run = slot.runId === null ? undefined : runs.get(slot.runId);
    if (run === undefined) problems.push(`slot ${slot.at} fired run ${slot.runId} which is not stored`);
    else if (!FINAL_RUN_STATUSES.includes(run.status) && !stored.parked.has(run.id)) problems.push(`run ${run.id} of slot ${slot.at} is ${run.status}`);
    else if (run.scheduledAt !== slot.at) problems.push(`run ${run.id} is for ${run.scheduledAt}, its slot is ${slot.at}`);
  }
  const perSlot = new Map<string, number>();
  for (const r of stored.runs) if (r.trigger === 'schedule' || r.trigger === 'catch-up') perSlot.set(r.scheduledAt, (perSlot.get(r.scheduledAt) ?? 0) + 1);
  for (const [at, n] of perSlot) if (n > 1) problems.push(`slot ${at} ran ${n} times`);
  return problems;
}
