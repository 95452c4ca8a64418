/**
 * Fires committed ahead of their slot: what the engine does with a slot the timer handed over a
 * lead window early, at the slot's time, and when a pause, a removal, a stop, a clock step or a
 * restart comes in between. The waiting itself (one clock timer) is {@link PreClaims}; the lead is
 * {@link LeadWindow}. Owned by the scheduler actor and only called from its mailbox.
 *
 * The rules (docs/architecture.md "Fires committed ahead", docs/schedules.md):
 * - Ahead of its time, the slot is recorded `fired` with its run `queued` and the job's schedule
 *   state moved past it, in the group commit: one durable `(job, slot)` record, so it can never
 *   fire twice, whatever happens next.
 * - At its time the run goes to the ready queue with no awaited write. The overlap policy is
 *   applied THEN: a run skipped by it is recorded `skipped` and the slot's outcome revised to
 *   `skipped` (one more record, in the next commit).
 * - A pause before its time withdraws it the same way (slot `skipped`, run `skipped`, reason
 *   "paused"); a removal drops it with the job's records.
 * - A graceful stop parks it; a restart (after a stop or a crash) finds it `queued` in the store:
 *   if its time is still ahead it certainly never started, and waits for its time again (nothing
 *   new recorded); if its time has passed it may have started, and is `interrupted` (retried per
 *   the job's retry policy) like any run a crash left behind.
 */
import type { Job } from '../../model/job';
import type { Run } from '../../model/run';
import type { SchedulerEvent } from '../../model/events';
import type { Clock } from '../../runtime/clock';
import type { EventBus } from '../../runtime/event-bus';
import { jitterFor } from '../queue/jitter';
import type { Committer } from './committer';
import type { RunBook } from './runbook';
import type { SlotKeeper } from './slots';
import { LeadWindow, PreClaims, type PreClaim } from './preclaims';
import { abandonRun, iso, newRun, newSlot } from './runs';

/** What firing ahead needs from the engine. */
export interface FiresAheadDeps {
  clock: Clock;
  bus: EventBus<SchedulerEvent>;
  commit: Committer;
  slots: SlotKeeper;
  runs(): RunBook;
  /** A graceful stop began: nothing starts here any more. */
  stopping(): boolean;
  /** The job's current spec, if cached (a pre-claim carries the spec it was fired with). */
  current(jobId: string): Job | undefined;
  /** Tells the scheduler's mailbox that something waiting here is due (`dispatchDue`). */
  wake(): void;
  /** A retry's backoff elapsed (a `retry:` key the timeline handed over early). */
  retryDue(key: string): void;
}

/** Why a pre-claimed slot of a paused job does not run. */
export const PAUSED_REASON = 'the job was paused before this slot\'s time (its fire had been committed ahead)';

/** Fires committed ahead of their slot (see the file comment). */
export class FiresAhead {
  readonly #d: FiresAheadDeps;
  readonly #pre: PreClaims;
  readonly lead = new LeadWindow();
  /** Lead last told to the queue (-1: never, or a new queue incarnation). */
  #leadSent = -1;

  constructor(deps: FiresAheadDeps) {
    this.#d = deps;
    this.#pre = new PreClaims(deps.clock, deps.wake);
  }

  /** Pre-claims waiting for their commit or their time. */
  get waiting(): number {
    return this.#pre.size;
  }

  /** The lead to send with the next timeline message, if the queue does not have it yet. */
  leadToSend(): number | undefined {
    if (this.lead.ms === this.#leadSent) return undefined;
    this.#leadSent = this.lead.ms;
    return this.#leadSent;
  }

  /** A new queue incarnation starts with no lead: send it again. */
  queueRestarted(): void {
    this.#leadSent = -1;
  }

  /** A retry key the timeline handed over before its time. */
  retryEarly(key: string, at: number): void {
    this.#pre.addRetry(key, at);
  }

  /** A slot handed over ahead of its time: its fire goes to the open batch now (quiet). */
  fire(job: Job, slotAt: number, at: number): void {
    const now = this.#d.clock.now();
    const run = newRun(job, 'schedule', slotAt, 1, now);
    const claim: PreClaim = { job, run, slotAt, at, durable: false, withdrawn: null };
    this.#pre.add(claim);
    // When the timer handed it over (it was due `lead` before `at`, or later if the mailbox was busy).
    const handedAt = Math.min(now, at - this.lead.ms);
    this.#d.slots.record(job, slotAt, 'fired', run, null, (writtenOff) => {
      const t = this.#d.clock.now();
      this.lead.sample(t - handedAt, t);
      if (writtenOff) return this.#pre.delete(run.id);
      if (claim.withdrawn !== null) {
        this.#pre.delete(run.id);
        return this.#writeOff(claim, claim.withdrawn, t);
      }
      if (this.#d.stopping()) {
        this.#pre.delete(run.id);
        return this.#d.commit.add({ parked: [run.id] });
      }
      if (at <= t) {
        // The commit took longer than the lead: dispatch now (no extra hop through the timer).
        this.#pre.delete(run.id);
        this.#d.bus.publish({ type: 'run.queued', at: iso(t), run });
        if (this.#dispatch(claim, t)) this.#publishFired(claim, t);
        return;
      }
      this.#pre.durable(run.id);
      // Durable and queued: published now, well before its time (the slot's outcome is published at its time).
      this.#d.bus.publish({ type: 'run.queued', at: iso(t), run });
    }, true);
  }

  /** The timer said something is due: dispatch every pre-claim and retry whose time has come. */
  dispatchDue(): void {
    const now = this.#d.clock.now();
    const { claims, retries } = this.#pre.takeDue(now);
    for (const key of retries) this.#d.retryDue(key);
    const fired: PreClaim[] = [];
    for (const c of claims) if (this.#dispatch(c, now)) fired.push(c);
    // Started first (one executor message), the slots' outcomes published after.
    this.#d.runs().pump();
    for (const c of fired) this.#publishFired(c, now);
  }

  /**
   * A slot's time came: its durable run goes to the ready queue unless the overlap policy skips it.
   * Returns whether it went (the caller publishes its slot as `fired`).
   */
  #dispatch(c: PreClaim, now: number): boolean {
    const job = this.#d.current(c.job.id) ?? c.job;
    const runs = this.#d.runs();
    const verdict = runs.verdict(job);
    if (verdict.decision === 'skip') {
      this.#writeOff(c, verdict.reason ?? 'overlap policy', now);
      return false;
    }
    runs.dispatch(job, c.run, verdict.decision, false);
    return true;
  }

  #publishFired(c: PreClaim, now: number): void {
    this.#d.bus.publish({ type: 'slot.recorded', at: iso(now), slot: newSlot(c.job.id, c.slotAt, 'fired', c.run.id, null, now) });
  }

  /** The slot will not run after all: run `skipped`, slot outcome revised to `skipped`. */
  #writeOff(c: PreClaim, reason: string, now: number): void {
    const skipped = abandonRun(c.run, 'skipped', reason, now);
    const slot = newSlot(c.job.id, c.slotAt, 'skipped', c.run.id, reason, now);
    this.#d.commit.add({ runs: [skipped], revised: [slot] }, (result) => {
      if (result.dropped.includes(c.job.id)) return;
      const at = iso(this.#d.clock.now());
      this.#d.bus.publish({ type: 'slot.recorded', at, slot });
      this.#d.bus.publish({ type: 'run.finished', at, run: skipped });
    });
  }

  /** The job was paused: its pre-claimed slots are withdrawn (durably, as skips). */
  withdrawJob(jobId: string): void {
    const now = this.#d.clock.now();
    for (const c of this.#pre.ofJob(jobId)) {
      if (c.withdrawn !== null) continue;
      c.withdrawn = PAUSED_REASON;
      if (!c.durable) continue; // written off once its fire is durable (see fire)
      this.#pre.delete(c.run.id);
      this.#writeOff(c, PAUSED_REASON, now);
    }
  }

  /** The job was removed: its pre-claims go with its records. */
  dropJob(jobId: string): void {
    this.#pre.dropJob(jobId);
  }

  /** Graceful stop: the ids of durable pre-claims never dispatched, to park (queued again at the next start). */
  park(): string[] {
    return this.#pre.takeAll().map((c) => c.run.id);
  }

  /** The wall clock stepped: interval jobs' waiting fires move with it; due ones are dispatched. */
  clockJumped(deltaMs: number, isInterval: (job: Job) => boolean): void {
    this.#pre.clockJumped(deltaMs, isInterval);
    this.dispatchDue();
  }

  /**
   * Start-up: a run stored `queued` for a schedule slot whose dispatch time is still ahead was
   * committed ahead and certainly never started: it waits for its time again. Returns false for
   * any other run (the run book recovers it: parked runs are queued, the rest interrupted).
   *
   * Its `run.queued` is published again: the incarnation that committed it may have died before
   * its commit's answer (a crash or hang in `committed`), so nobody announced it, and a run must
   * not start unannounced — a subscriber waiting for what is queued (`events`, a test's ledger)
   * would not wait for it, while overlap rightly counts it running. Announced twice when the old
   * incarnation had published it: the event stream is at-least-once across a restart.
   */
  reclaim(job: Job, run: Run): boolean {
    if (run.status !== 'queued' || run.trigger !== 'schedule' || run.startedAt !== null || run.attempt !== 1) return false;
    const slotAt = Date.parse(run.scheduledAt);
    const at = job.jitterMs > 0 ? slotAt + jitterFor(job.id, slotAt, job.jitterMs) : slotAt;
    const now = this.#d.clock.now();
    if (!(at > now)) return false;
    const claim: PreClaim = { job, run, slotAt, at, durable: true, withdrawn: null };
    if (!job.enabled || job.completedAt !== null) {
      this.#writeOff(claim, PAUSED_REASON, now);
      return true;
    }
    this.#pre.add(claim);
    this.#pre.durable(run.id);
    this.#d.bus.publish({ type: 'run.queued', at: iso(now), run });
    return true;
  }

  /** This engine incarnation stops (or crashed): no more wakes. */
  stop(): void {
    this.#pre.stop();
  }
}
