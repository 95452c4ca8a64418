/**
 * Group commit of the scheduler actor. Every handler adds what it wants durable (fires, runs,
 * final records, schedule states) to the *open* batch, with a callback for what follows once it is
 * durable (publish, dispatch, retry...). Each batch is ONE transaction through the persistence
 * port; everything that arrives while commits are in flight goes into the next one, so under load
 * a commit carries many turns' worth of records and the cost of a flush is shared.
 *
 * Pipelined: up to {@link MAX_IN_FLIGHT} batches are in flight at once (the store writes them in
 * the order sent — lmdb commits the next transaction while the previous one is being synced — and
 * the scheduler's thread prepares the next batch meanwhile), but their callbacks always run in the
 * order the batches were sealed, each only once its own batch and every earlier one is durable.
 *
 * Nothing popped is lost: a batch whose commit fails (a PersistenceError, an ask timeout, the
 * persistence thread dying) is kept; once every batch in flight has answered, the failed ones are
 * merged (with what arrived since) and retried after a backoff (the runtime's one backoff,
 * src/runtime/backoff.ts); callbacks of batches sealed after a failed one wait for its retry, so
 * order holds. Records too: each batch names the one sent before it while that one is unanswered
 * (port.ts `BatchOrder`), and the store refuses it unless that one is durable — so a crash before
 * the retry never leaves a later fire durable without an earlier one. A schedule state that a later, durable batch already moved is not written again
 * (it would go back in time). While commits fail, `fault` says why (health shows it).
 *
 * Completions come back through the scheduler's own mailbox (`deliver`), so callbacks run one at a
 * time with every other handler: the committer never touches engine state from outside it.
 */
import type { Logger } from '../../model';
import type { Run, Slot } from '../../model/run';
import type { Clock, TimerHandle } from '../../runtime/clock';
import { backoffDelay, backoffOptions, type BackoffOptions } from '../../runtime/backoff';
import type { ActorRef } from '../../runtime/types';
import { runSliced, type SliceHooks } from '../../runtime/slice';
import type { PersistenceHandlers, ScheduleState } from '../persistence/actor';
import type { Batch, BatchResult, FireRecord } from '../persistence/port';
import { NO_STEPS, type ClockFrame } from '../persistence/clock-frame';
import { toWire } from '../persistence/run-tuples';

/** What happens once a batch is durable; `result` says what it did not write. */
export type AfterCommit = (result: BatchResult) => void;

/** Records to add to the open batch. */
export interface BatchPart {
  fires?: FireRecord[];
  runs?: Run[];
  states?: ScheduleState[];
  parked?: string[];
  /** Slot outcomes revised (a fire committed ahead, withdrawn at its time: port.ts `revised`). */
  revised?: Slot[];
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
  /**
   * Given: callbacks run in time slices (src/runtime/slice.ts), these hooks around each yield.
   * Not given: every durable callback runs in the `settled` call.
   */
  slice?: SliceHooks;
}

/** Commit retry backoff: quick at first (a transient fault), capped so a recovered store is noticed soon. */
const COMMIT_BACKOFF: Partial<BackoffOptions> = { minMs: 50, maxMs: 5_000, randomFactor: 0.2 };

/** Batches committed at once (see the file comment). */
export const MAX_IN_FLIGHT = 2;

/**
 * Records past which the open batch is sealed and a new one opened: a backlog (a spell's missed
 * ranges, start-up recovery, a burst) goes out as several commits of bounded size, so no single
 * transaction (and its structured clone to the persistence thread) takes seconds, and the
 * callbacks of the first of them (dispatch) run while the rest are written. Order is kept
 * (sealed batches are sent in order); one `add` is never split (its callback needs all of it).
 */
export const MAX_BATCH_RECORDS = 2_000;

class OpenBatch {
  readonly fires: FireRecord[] = [];
  readonly runs = new Map<string, Run>();
  readonly states = new Map<string, ScheduleState>();
  readonly parked: string[] = [];
  readonly revised: Slot[] = [];
  readonly after: AfterCommit[] = [];
  /** A clock step was handled: the batch must go even without records (it carries the step's record). */
  clockStep = false;

  get empty(): boolean {
    return this.size === 0 && !this.clockStep;
  }

  /** Records held. */
  get size(): number {
    return this.fires.length + this.runs.size + this.states.size + this.parked.length + this.revised.length;
  }

  add(p: BatchPart, after?: AfterCommit): void {
    if (p.fires !== undefined) for (const f of p.fires) this.fires.push(f);
    if (p.runs !== undefined) for (const r of p.runs) this.runs.set(r.id, r);
    // States only move forward in memory: the newest copy of a job's state is the one to write.
    if (p.states !== undefined) for (const s of p.states) this.states.set(s.jobId, s);
    if (p.parked !== undefined) for (const id of p.parked) this.parked.push(id);
    if (p.revised !== undefined) for (const sl of p.revised) this.revised.push(sl);
    if (after !== undefined) this.after.push(after);
  }

  /** `later`'s records merged behind this one's (callbacks are the caller's business). */
  mergeRecords(later: OpenBatch): void {
    this.add({ fires: later.fires, runs: [...later.runs.values()], states: [...later.states.values()], parked: later.parked, revised: later.revised });
    this.clockStep ||= later.clockStep;
  }

  toBatch(): Batch {
    return { fires: this.fires, runs: [...this.runs.values()], states: [...this.states.values()], parked: this.parked, revised: this.revised };
  }
}

/** Callbacks of one sealed batch, with its own result once it is durable. */
interface Group {
  after: AfterCommit[];
  /** null: the records of this group travel in the entry's batch (its result applies). */
  result: BatchResult | null;
}

/** A batch sent (or waiting to be sent again), and the callbacks that wait for it. */
interface InFlight {
  id: number;
  batch: OpenBatch;
  /** Callback groups in seal order (a retry carries the groups of every batch it covers). */
  groups: Group[];
  /** The clock-step record it carries (clock-frame.ts), if any: its `seq`. */
  clockSeq?: number;
  /** Settled: durable (its result) or failed. */
  state: 'sent' | 'failed' | { result: BatchResult };
}

/** The scheduler's group commit (see the file comment). */
export class Committer {
  readonly #d: CommitterDeps;
  readonly #backoff: BackoffOptions;
  #open = new OpenBatch();
  /** Batches sealed at {@link MAX_BATCH_RECORDS}, waiting to be sent (in order, before the open one). */
  #sealed: OpenBatch[] = [];
  /** Batches in flight or kept after a failure, in seal order (callbacks run from the front). */
  #inflight: InFlight[] = [];
  /** A failure is waiting out its backoff (or for the other batches in flight to answer). */
  #waiting = false;
  #retryDue = false;
  #retryTimer: TimerHandle | null = null;
  #seq = 0;
  #failures = 0;
  /** Per job: id of the newest durable batch that wrote its schedule state. */
  readonly #stateAt = new Map<string, number>();
  #idle: Array<() => void> = [];
  /** The clock steps handled (clock-frame.ts), and the newest of them known durable. */
  #clock: ClockFrame = NO_STEPS;
  #clockDurable = 0;
  /** This committer's `BatchOrder.writer` (port.ts): the store refuses a batch sent behind one that failed. */
  readonly #writer = Math.floor(Math.random() * 2 ** 52);
  /** Counters, for tests and benches. */
  /** `largest`: the most records one durable commit carried (MAX_BATCH_RECORDS bounds it, plus one add). */
  readonly stats = { commits: 0, failures: 0, records: 0, largest: 0 };

  constructor(deps: CommitterDeps) {
    this.#d = deps;
    this.#backoff = backoffOptions({ ...COMMIT_BACKOFF, ...deps.backoff });
  }

  /** Adds records (and what follows once they are durable) to the open batch. Call {@link flush} after. */
  add(part: BatchPart, after?: AfterCommit): void {
    this.#open.add(part, after);
    if (this.#open.size >= MAX_BATCH_RECORDS) {
      this.#sealed.push(this.#open);
      this.#open = new OpenBatch();
    }
  }

  /** Start-up: the clock steps the store holds (durable already). */
  loadClock(frame: ClockFrame): void {
    this.#clock = frame;
    this.#clockDurable = frame.seq;
  }

  /**
   * A clock step was handled: `frame` goes to the store with the open batch, and with every batch
   * sent after it until one of them is durable — so a state tagged with the new offset never
   * becomes durable without it (clock-frame.ts "Crash safety"). Call {@link flush} after.
   */
  clockStepped(frame: ClockFrame): void {
    this.#clock = frame;
    this.#open.clockStep = true;
  }

  /** Takes a job's state back out of the batches not sent yet (it is written another way, e.g. with its insert). */
  unstage(jobId: string): void {
    this.#open.states.delete(jobId);
    for (const b of this.#sealed) b.states.delete(jobId);
  }

  /** Records waiting or in flight. */
  get busy(): boolean {
    return this.#inflight.length > 0 || this.#sealed.length > 0 || !this.#open.empty || this.#open.after.length > 0;
  }

  /**
   * Resolves once nothing is waiting or in flight (or given up at stop). Under a steady stream of
   * fires that moment may never come: to wait for what was added so far, use {@link durable}.
   */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Resolves once everything added so far is durable (or given up when this incarnation is
   * abandoned), however much is added after it: a callback without records in the open batch,
   * which runs in order after every batch sealed before it. Call {@link flush} after.
   */
  durable(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => {
      this.#idle.push(resolve);
      this.#open.add({}, () => resolve());
    });
  }

  /** Starts a commit of the open batch unless {@link MAX_IN_FLIGHT} are in flight or a failure waits. */
  flush(): void {
    if (this.#waiting) return;
    while (this.#sealed.length > 0 && this.#inflight.length < MAX_IN_FLIGHT) {
      const batch = this.#sealed.shift()!;
      this.#send({ id: ++this.#seq, batch, groups: [{ after: batch.after, result: null }], state: 'sent' });
    }
    if (this.#sealed.length > 0) return;
    if (this.#open.empty) {
      if (this.#open.after.length === 0) return this.#settleIdle();
      // Callbacks without records (nothing to write): they run at once, in order — after every
      // batch in flight, whose callbacks were added before them.
      if (this.#inflight.length > 0) return;
      const after = this.#open.after.splice(0);
      for (const fn of after) fn({ deduped: [], dropped: [] });
      this.#settleIdle();
      return;
    }
    if (this.#inflight.length >= MAX_IN_FLIGHT) return;
    const batch = this.#open;
    this.#open = new OpenBatch();
    this.#send({ id: ++this.#seq, batch, groups: [{ after: batch.after, result: null }], state: 'sent' });
  }

  /**
   * A commit's outcome, as delivered through the mailbox: run callbacks in order, or retry later.
   * Many callbacks run in time slices: then the rest follows after the thread was yielded and the
   * returned promise settles once all ran (the caller's mailbox stays held meanwhile, so nothing
   * else of the engine runs in between).
   */
  settled(id: number, outcome: { ok: true; result: BatchResult } | { ok: false; error: string }): void | Promise<void> {
    const entry = this.#inflight.find((e) => e.id === id);
    if (entry === undefined || entry.state !== 'sent') return;
    if (!outcome.ok) {
      entry.state = 'failed';
      this.stats.failures++;
      this.#d.logger.error({ err: outcome.error, records: this.#count(entry.batch) },
        'store commit failed; the batch is kept and retried');
      // (A batch sent behind a failed one is refused by the store: health keeps the first cause.)
      if (!this.#waiting) this.#d.onFault(`commits failing since ${this.#failures + 1} attempt(s): ${outcome.error} (retrying)`);
      if (!this.#waiting) {
        this.#waiting = true;
        const delay = Math.round(backoffDelay(this.#failures++, this.#backoff));
        this.#retryTimer = this.#d.clock.setTimeout(() => {
          this.#retryTimer = null;
          this.#d.retry();
        }, delay);
      }
      this.#retryIfReady();
      return;
    }
    entry.state = { result: outcome.result };
    this.stats.commits++;
    const records = this.#count(entry.batch);
    this.stats.records += records;
    if (records > this.stats.largest) this.stats.largest = records;
    for (const jobId of entry.batch.states.keys()) this.#stateAt.set(jobId, id);
    if (entry.clockSeq !== undefined && entry.clockSeq > this.#clockDurable) this.#clockDurable = entry.clockSeq;
    if (!this.#waiting && this.#failures > 0) {
      this.#failures = 0;
      this.#d.onFault(null);
      this.#d.logger.info({}, 'store commits succeed again');
    }
    const callbacks = this.#durableCallbacks();
    if (this.#d.slice === undefined) {
      for (const fn of callbacks) fn();
    } else {
      const rest = runSliced(callbacks, (fn) => fn(), this.#d.slice);
      if (rest !== undefined) return rest.then(() => this.#afterDrain());
    }
    this.#afterDrain();
  }

  #afterDrain(): void {
    if (this.#waiting) this.#retryIfReady();
    else this.flush();
  }

  /** The backoff after a failure elapsed: the failed batches go again (once none is in flight). */
  retryNow(): void {
    if (!this.#waiting) return;
    this.#retryDue = true;
    this.#retryIfReady();
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

  /**
   * The callbacks of every durable batch at the front, in seal order, pulled one at a time. A
   * batch leaves the front only after its last callback ran, so a flush from inside a callback run
   * (a slice boundary) never runs record-less callbacks ahead of the batch still being drained.
   */
  *#durableCallbacks(): Generator<() => void> {
    while (this.#inflight.length > 0) {
      const head = this.#inflight[0]!;
      if (typeof head.state !== 'object') return;
      const result = head.state.result;
      for (const g of head.groups) for (const fn of g.after) yield () => fn(g.result ?? result);
      this.#inflight.shift();
    }
  }

  /**
   * Once the backoff elapsed and every batch in flight has answered: the failed batches and all
   * after them become ONE batch (records of the failed ones and of the open batch; callbacks of all
   * of them, in order), sent again.
   */
  #retryIfReady(): void {
    if (!this.#retryDue || this.#inflight.some((e) => e.state === 'sent')) return;
    this.#retryDue = false;
    this.#waiting = false;
    const first = this.#inflight.findIndex((e) => e.state === 'failed');
    if (first < 0) return this.flush();
    const covered = this.#inflight.splice(first);
    const batch = new OpenBatch();
    const groups: Group[] = [];
    for (const e of covered) {
      if (e.state === 'failed') {
        // A state a later durable batch already moved stays as that batch wrote it.
        for (const jobId of [...e.batch.states.keys()]) if ((this.#stateAt.get(jobId) ?? 0) > e.id) e.batch.states.delete(jobId);
        batch.mergeRecords(e.batch);
        for (const g of e.groups) groups.push({ after: g.after, result: g.result });
      } else {
        const own = (e.state as { result: BatchResult }).result;
        for (const g of e.groups) groups.push({ after: g.after, result: g.result ?? own });
      }
    }
    // Sealed after the failed ones: they go with them, in order (a retry is not size-capped).
    for (const b of [...this.#sealed.splice(0), this.#open]) {
      batch.mergeRecords(b);
      groups.push({ after: b.after, result: null });
    }
    this.#open = new OpenBatch();
    this.#send({ id: ++this.#seq, batch, groups, state: 'sent' });
  }

  #send(entry: InFlight): void {
    // The batch sent before this one, if still unanswered, must be durable first (port.ts BatchOrder).
    const prev = this.#inflight[this.#inflight.length - 1];
    this.#inflight.push(entry);
    const plain = entry.batch.toBatch();
    plain.order = { writer: this.#writer, seq: entry.id, after: prev?.state === 'sent' ? prev.id : null };
    if (this.#clock.seq > this.#clockDurable) {
      plain.clock = this.#clock;
      entry.clockSeq = this.#clock.seq;
    }
    // Runs cross to the persistence thread as tuples (run-tuples.ts: a cheaper structured clone).
    const batch = toWire(plain);
    this.#d.persistence.ask('commitBatch', { batch }, { timeoutMs: this.#d.commitTimeoutMs ?? 30_000 }).then(
      (result) => this.#d.deliver(entry.id, { ok: true, result }),
      (err: unknown) => this.#d.deliver(entry.id, { ok: false, error: err instanceof Error ? err.message : String(err) }),
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
