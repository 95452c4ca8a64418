/**
 * Fires committed ahead of their slot ("pre-claims"), and what else the timeline handed over
 * early, waiting here for their time.
 *
 * The queue's timer hands a slot over a lead window before it is due (src/actors/queue/timer.ts
 * `leadMs`). The engine then decides the slot in memory and puts its durable record — the slot
 * (`fired`), its run (`queued`) and the job's new schedule state — in the group commit at once, so
 * the fsync happens BEFORE the slot's time. The fire then waits here; at its time ONE clock timer
 * (for the earliest waiting instant, however many there are) tells the scheduler's mailbox
 * `dispatchDue`, and the runs go to the ready queue with no awaited write: the overlap policy is
 * applied then (what runs at the slot's time decides, not what ran a lead window earlier).
 *
 * The lead adapts to what a pre-commit takes here ({@link LeadWindow}); docs/architecture.md
 * "Fires committed ahead" says what a crash, a pause or a clock step does to a pre-claimed slot.
 */
import type { Job } from '../../model/job';
import type { Run } from '../../model/run';
import type { Clock, TimerHandle } from '../../runtime/clock';

/** A fire committed ahead of its slot, waiting for its time. */
export interface PreClaim {
  job: Job;
  run: Run;
  slotAt: number;
  /** When it is dispatched: the slot, plus the job's jitter. */
  at: number;
  /** Its record is durable (before that, a pause or stop waits for the commit's answer). */
  durable: boolean;
  /** Withdrawn before its time (pause): why. Written as a skip once its record is durable. */
  withdrawn: string | null;
}

/** Retries and pre-claims waiting for their time, with one clock timer for the earliest. */
export class PreClaims {
  readonly #clock: Clock;
  readonly #wake: () => void;
  readonly #claims = new Map<string, PreClaim>();
  /** Retry keys the timeline handed over early, with their due time. */
  readonly #retries = new Map<string, number>();
  #timer: TimerHandle | null = null;
  #timerAt = NaN;
  #stopped = false;

  /** @param wake called (from a clock timer) when something waiting is due: tell the mailbox. */
  constructor(clock: Clock, wake: () => void) {
    this.#clock = clock;
    this.#wake = wake;
  }

  /** Pre-claims waiting (durable or not). */
  get size(): number {
    return this.#claims.size;
  }

  /** A fire committed ahead: waits for its commit, then for its time. */
  add(c: PreClaim): void {
    this.#claims.set(c.run.id, c);
  }

  /** Its record is durable: it waits for its time (the timer is armed for it). */
  durable(runId: string): PreClaim | undefined {
    const c = this.#claims.get(runId);
    if (c === undefined) return undefined;
    c.durable = true;
    if (c.withdrawn === null) this.#armFor(c.at);
    return c;
  }

  /** Forgets a pre-claim (deduped, dropped, or withdrawn and written off). */
  delete(runId: string): void {
    this.#claims.delete(runId);
  }

  /** A retry whose backoff ends at `at` came early from the timeline. */
  addRetry(key: string, at: number): void {
    this.#retries.set(key, at);
    this.#armFor(at);
  }

  /** Durable pre-claims and retries due at `now`, removed; the timer re-armed for the rest. */
  takeDue(now: number): { claims: PreClaim[]; retries: string[] } {
    const claims: PreClaim[] = [];
    const retries: string[] = [];
    for (const c of this.#claims.values()) {
      if (c.durable && c.withdrawn === null && c.at <= now) claims.push(c);
    }
    for (const c of claims) this.#claims.delete(c.run.id);
    for (const [key, at] of this.#retries) {
      if (at <= now) retries.push(key);
    }
    for (const key of retries) this.#retries.delete(key);
    claims.sort((a, b) => a.at - b.at);
    this.#timer = null;
    this.#timerAt = NaN;
    this.#arm();
    return { claims, retries };
  }

  /** The job's pre-claims (still held here). */
  ofJob(jobId: string): PreClaim[] {
    const out: PreClaim[] = [];
    for (const c of this.#claims.values()) if (c.job.id === jobId) out.push(c);
    return out;
  }

  /** Forgets the job's pre-claims (removed job: the store drops its records; its retries are gone from the run book). */
  dropJob(jobId: string): void {
    for (const c of this.ofJob(jobId)) this.#claims.delete(c.run.id);
  }

  /** Every durable pre-claim not dispatched (graceful stop parks them), removed. */
  takeAll(): PreClaim[] {
    const all = [...this.#claims.values()].filter((c) => c.durable && c.withdrawn === null);
    for (const c of all) this.#claims.delete(c.run.id);
    return all;
  }

  /**
   * The wall clock stepped: interval jobs' waiting fires move with it (elapsed time, as their
   * schedule does); calendar slots keep their wall time. Retries are elapsed time too.
   */
  clockJumped(deltaMs: number, isInterval: (job: Job) => boolean): void {
    for (const c of this.#claims.values()) if (isInterval(c.job)) c.at += deltaMs;
    for (const [key, at] of this.#retries) this.#retries.set(key, at + deltaMs);
    this.#timer = this.#clear();
    this.#arm();
  }

  /** No more wakes (this engine incarnation stops or crashed). */
  stop(): void {
    this.#stopped = true;
    this.#timer = this.#clear();
  }

  #clear(): null {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = NaN;
    return null;
  }

  /** One timer for the earliest durable pre-claim or retry (a scan: after a wake or a clock step). */
  #arm(): void {
    let earliest = Infinity;
    for (const c of this.#claims.values()) if (c.durable && c.withdrawn === null && c.at < earliest) earliest = c.at;
    for (const at of this.#retries.values()) if (at < earliest) earliest = at;
    this.#armFor(earliest);
  }

  /** Arms the timer for `earliest` unless it is armed for that or sooner already (O(1)). */
  #armFor(earliest: number): void {
    if (this.#stopped || earliest === Infinity || earliest >= this.#timerAt) return;
    this.#timer = this.#clear();
    this.#timerAt = earliest;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      this.#timerAt = NaN;
      this.#wake();
    }, Math.max(0, earliest - this.#clock.now()));
  }
}

/**
 * How far ahead fires are committed: 1.5 times the slowest recent pre-commit (time from the timer's
 * hand-over until the fire is durable), plus a margin, between {@link LeadWindow.MIN_MS} and
 * {@link LeadWindow.MAX_MS}. A slow commit raises it at once; it decays slowly (5% a second), so
 * one quiet second does not undo what a loaded minute taught.
 */
export class LeadWindow {
  /**
   * `RAE_SCHED_FIRE_AHEAD=0` turns firing ahead off (lead 0: every slot is committed when due and
   * dispatched once durable, as before): for A/B measurements in one build.
   */
  static readonly ENABLED = process.env.RAE_SCHED_FIRE_AHEAD !== '0';
  /** Floor: covers an fsync on a quiet disk (40–150 ms measured here) with room to spare. */
  static readonly MIN_MS = 250;
  /**
   * Ceiling: past this, a crash or a pause leaves more slots committed ahead, and jobs of a 1 s
   * period in phase would have their next slot committed in the same instant as this one is
   * dispatched (both turns then wait for each other in the mailbox).
   */
  static readonly MAX_MS = 900;
  static readonly MARGIN_MS = 50;
  #slowest = 0;
  #at = NaN;
  #lead = LeadWindow.ENABLED ? LeadWindow.MIN_MS : 0;

  /** The lead now, ms. */
  get ms(): number {
    return this.#lead;
  }

  /** A pre-commit took `ms` from hand-over to durable (at `now`). Returns true when the lead changed. */
  sample(ms: number, now: number): boolean {
    if (!LeadWindow.ENABLED) return false;
    // The slowest recent pre-commit, forgotten by 5% a second (not per sample: a batch of 10,000
    // fires is one experience of the disk, not 10,000).
    const decay = Number.isNaN(this.#at) ? 0 : 0.95 ** (Math.max(0, now - this.#at) / 1000);
    this.#at = now;
    this.#slowest = Math.max(ms, this.#slowest * decay);
    const lead = Math.round(Math.min(LeadWindow.MAX_MS, Math.max(LeadWindow.MIN_MS, 1.5 * this.#slowest + LeadWindow.MARGIN_MS)) / 10) * 10;
    if (lead === this.#lead) return false;
    this.#lead = lead;
    return true;
  }
}
