/**
 * Group commit of the scheduler actor. Every handler adds what it wants durable (fires, runs,
 * final records, schedule states) to the *open* batch, with a callback for what follows once it is
 * durable (publish, dispatch, retry...). One batch is committed at a time, in ONE transaction
 * through the persistence port; everything that arrives meanwhile goes into the next one, so under
 * load a commit carries many turns' worth of records and the cost of a flush is shared.
 *
 * Nothing popped is lost: a batch whose commit fails (a PersistenceError, an ask timeout, the
 * persistence thread dying) is merged back in front of the open batch and retried after a backoff
 * (the runtime's one backoff, src/runtime/backoff.ts); its callbacks run once it finally commits.
 * While commits fail, `fault` says why (health shows it).
 *
 * Completions come back through the scheduler's own mailbox (`deliver`), so callbacks run one at a
 * time with every other handler: the committer never touches engine state from outside it.
 */
import type { Logger } from '../../api';
import type { Run } from '../../model/run';
import type { Clock, TimerHandle } from '../../runtime/clock';
import { backoffDelay, backoffOptions, type BackoffOptions } from '../../runtime/backoff';
import type { ActorRef } from '../../runtime/types';
import type { PersistenceHandlers, ScheduleState } from '../persistence/actor';
import type { Batch, BatchResult, FireRecord } from '../persistence/port';

/** What happens once a batch is durable; `result` says what it did not write. */
export type AfterCommit = (result: BatchResult) => void;

/** Records to add to the open batch. */
export interface BatchPart {
  fires?: FireRecord[];
  runs?: Run[];
  states?: ScheduleState[];
  parked?: string[];
}

/** What the committer needs. */
export interface CommitterDeps {
  clock: Clock;
  logger: Logger;
  persistence: ActorRef<PersistenceHandlers>;
  /** Hands a commit's outcome back to the scheduler's mailbox (`tell`). */
  deliver(id: number, outcome: { ok: true; result: BatchResult } | { ok: false; error: string }): void;
  /** Tells the scheduler to try the waiting batch again (`tell`, after the backoff). */
  retry(): void;
  /** The store started or stopped failing (null: healthy again). */
  onFault(detail: string | null): void;
  /** Longest a commit may take before it counts as failed. @default 30000 */
  commitTimeoutMs?: number;
  /** @default 50 ms doubling to 5 s */
  backoff?: Partial<BackoffOptions>;
}

/** Commit retry backoff: quick at first (a transient fault), capped so a recovered store is noticed soon. */
const COMMIT_BACKOFF: Partial<BackoffOptions> = { minMs: 50, maxMs: 5_000, randomFactor: 0.2 };

class OpenBatch {
  readonly fires: FireRecord[] = [];
  readonly runs = new Map<string, Run>();
  readonly states = new Map<string, ScheduleState>();
  readonly parked: string[] = [];
  readonly after: AfterCommit[] = [];

  get empty(): boolean {
    return this.fires.length === 0 && this.runs.size === 0 && this.states.size === 0 && this.parked.length === 0;
  }

  add(p: BatchPart, after?: AfterCommit): void {
    if (p.fires !== undefined) this.fires.push(...p.fires);
    for (const r of p.runs ?? []) this.runs.set(r.id, r);
    // States only move forward in memory: the newest copy of a job's state is the one to write.
    for (const s of p.states ?? []) this.states.set(s.jobId, s);
    if (p.parked !== undefined) this.parked.push(...p.parked);
    if (after !== undefined) this.after.push(after);
  }

  /** `later` merged behind this one (this one's records were popped first). */
  merge(later: OpenBatch): void {
    this.add({ fires: later.fires, runs: [...later.runs.values()], states: [...later.states.values()], parked: later.parked });
    this.after.push(...later.after);
  }

  toBatch(): Batch {
    return { fires: this.fires, runs: [...this.runs.values()], states: [...this.states.values()], parked: this.parked };
  }
}

/** The scheduler's group commit (see the file comment). */
export class Committer {
  readonly #d: CommitterDeps;
  readonly #backoff: BackoffOptions;
  #open = new OpenBatch();
  /** The batch being committed (or waiting out a backoff after failing), with its id. */
  #sealed: { id: number; batch: OpenBatch } | null = null;
  #waiting = false;
  #retryTimer: TimerHandle | null = null;
  #seq = 0;
  #failures = 0;
  #idle: Array<() => void> = [];
  /** Counters, for tests and benches. */
  readonly stats = { commits: 0, failures: 0, records: 0 };

  constructor(deps: CommitterDeps) {
    this.#d = deps;
    this.#backoff = backoffOptions({ ...COMMIT_BACKOFF, ...deps.backoff });
  }

  /** Adds records (and what follows once they are durable) to the open batch. Call {@link flush} after. */
  add(part: BatchPart, after?: AfterCommit): void {
    this.#open.add(part, after);
  }

  /** Takes a job's state back out of the open batch (it is written another way, e.g. with its insert). */
  unstage(jobId: string): void {
    this.#open.states.delete(jobId);
  }

  /** Records waiting or in flight. */
  get busy(): boolean {
    return this.#sealed !== null || !this.#open.empty || this.#open.after.length > 0;
  }

  /** Resolves once everything added so far is durable (or given up at stop). */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Starts a commit of the open batch unless one is in flight or waiting to be retried. */
  flush(): void {
    if (this.#sealed !== null) return;
    if (this.#open.empty) {
      // Callbacks without records (nothing to write): run them at once, in order.
      const after = this.#open.after.splice(0);
      for (const fn of after) fn({ deduped: [], dropped: [] });
      this.#settleIdle();
      return;
    }
    this.#send({ id: ++this.#seq, batch: this.#open });
    this.#open = new OpenBatch();
  }

  /** A commit's outcome, as delivered through the mailbox: run its callbacks, or retry it later. */
  settled(id: number, outcome: { ok: true; result: BatchResult } | { ok: false; error: string }): void {
    const sealed = this.#sealed;
    if (sealed === null || sealed.id !== id) return;
    if (!outcome.ok) {
      this.stats.failures++;
      const delay = Math.round(backoffDelay(this.#failures++, this.#backoff));
      this.#d.logger.error({ err: outcome.error, records: this.#count(sealed.batch), retryInMs: delay },
        'store commit failed; the batch is kept and retried');
      this.#d.onFault(`commits failing since ${this.#failures} attempt(s): ${outcome.error} (retrying)`);
      this.#waiting = true;
      this.#retryTimer = this.#d.clock.setTimeout(() => {
        this.#retryTimer = null;
        this.#d.retry();
      }, delay);
      return;
    }
    if (this.#failures > 0) {
      this.#failures = 0;
      this.#d.onFault(null);
      this.#d.logger.info({}, 'store commits succeed again');
    }
    this.stats.commits++;
    this.stats.records += this.#count(sealed.batch);
    this.#sealed = null;
    for (const fn of sealed.batch.after) fn(outcome.result);
    this.flush();
  }

  /** The backoff after a failure elapsed: the failed batch goes again, with whatever arrived since. */
  retryNow(): void {
    const sealed = this.#sealed;
    if (sealed === null || !this.#waiting) return;
    this.#waiting = false;
    sealed.batch.merge(this.#open);
    this.#open = new OpenBatch();
    this.#send({ id: ++this.#seq, batch: sealed.batch });
  }

  /** Stops retrying (shutdown of this engine incarnation). */
  stop(): void {
    if (this.#retryTimer !== null) this.#d.clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  /**
   * The engine incarnation crashed: no more retries, and whoever waits for `idle` is let go (the
   * next incarnation's start-up recovers from what the store holds).
   */
  abandon(): void {
    this.stop();
    const waiters = this.#idle.splice(0);
    for (const w of waiters) w();
  }

  #send(sealed: { id: number; batch: OpenBatch }): void {
    this.#sealed = sealed;
    const batch = sealed.batch.toBatch();
    this.#d.persistence.ask('commitBatch', { batch }, { timeoutMs: this.#d.commitTimeoutMs ?? 30_000 }).then(
      (result) => this.#d.deliver(sealed.id, { ok: true, result }),
      (err: unknown) => this.#d.deliver(sealed.id, { ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
  }

  #count(b: OpenBatch): number {
    return b.fires.length + b.runs.size + b.states.size;
  }

  #settleIdle(): void {
    if (this.busy) return;
    const waiters = this.#idle.splice(0);
    for (const w of waiters) w();
  }
}
