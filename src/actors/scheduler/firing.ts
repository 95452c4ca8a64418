/**
 * Firing of the scheduler actor: the slots the timer handed over (`slotsDue`), one slot or one
 * triggered run decided under the overlap policy (`fireSlot`), manual runs (`runNow`), watch and
 * usage triggers, and `--after` dependents. Decisions are made in memory; what must be durable goes
 * to the open batch of the group commit, and each handler ends with the engine's turn.
 * Owned by the Engine (engine.ts) and only called from its mailbox (one message at a time: no locks).
 */
import type { Logger } from '../../model';
import { ActorDeadError, NotFoundError } from '../../errors';
import type { Job } from '../../model/job';
import type { Run, RunTrigger } from '../../model/run';
import type { SchedulerEvent } from '../../model/events';
import type { Clock } from '../../runtime/clock';
import type { EventBus } from '../../runtime/event-bus';
import { runSliced } from '../../runtime/slice';
import type { JobIndex } from './job-index';
import type { RunEvent } from '../executor/types';
import { abandonRun, iso, newRun } from './runs';
import type { RunBook } from './runbook';
import type { SlotKeeper } from './slots';
import type { Committer } from './committer';
import type { FiresAhead } from './fires-ahead';
import type { JobDesk } from './job-desk';
import { RETRY_KEY_PREFIX } from '../queue/actor';
import { afterTriggerKey, eventTriggerKey, type TriggerLog } from './trigger-log';

/** What firing needs from the engine. */
export interface FiringDeps {
  clock: Clock;
  logger: Logger;
  bus: EventBus<SchedulerEvent>;
  index: JobIndex;
  jobs: JobDesk;
  slots: SlotKeeper;
  ahead: FiresAhead;
  commit: Committer;
  triggerLog: TriggerLog;
  /** The current run book (a reload replaces it). */
  runs(): RunBook;
  /** A graceful stop began: nothing fires any more. */
  stopping(): boolean;
  /** Throws ShutdownError once a graceful stop began. */
  refuseIfStopping(): void;
  /** Sends what the turn collected so far (a long handler, before it yields the thread). */
  sendTurn(): void;
  /** Ends the turn: sends the starts, the commit and the timeline changes collected (engine.ts). */
  endTurn(): Promise<void>;
}

/** Firing of slots, manual runs and triggered runs (see the file comment). */
export class Firing {
  readonly #d: FiringDeps;
  /** `runNow` callers waiting for their run to be durable (failed if this incarnation crashes). */
  readonly #awaitingDurable = new Set<(err: Error) => void>();

  constructor(deps: FiringDeps) {
    this.#d = deps;
  }

  /** This incarnation crashed: `runNow` callers still waiting for durability fail (ACTOR_DEAD). */
  abandon(): void {
    const err = new ActorDeadError('the scheduler restarted before this run was recorded; see the job\'s history');
    for (const reject of this.#awaitingDurable) reject(err);
    this.#awaitingDurable.clear();
  }

  /** One manual run: {@link Firing.runNowMany} of one ref; throws its refusal. */
  async runNow(ref: string): Promise<{ run: Run; durable: Promise<Run> }> {
    const { items, durable } = await this.runNowMany([ref]);
    const item = items[0]!;
    if ('error' in item) throw item.error;
    return { run: item.run, durable: durable.then(() => item.run) };
  }

  /**
   * Manual runs of many jobs (or many of one job) in ONE turn: the specs in one read, every run in
   * the open batch with ONE callback, one `pump`. A ref that is unknown, or a full ready queue,
   * refuses that ref only (and records nothing for it).
   */
  async runNowMany(refs: string[]): Promise<{ items: Array<{ run: Run } | { error: Error }>; durable: Promise<void> }> {
    this.#d.refuseIfStopping();
    const ids = refs.map((ref) => this.#d.index.idOf(ref));
    const jobs = await this.#d.jobs.jobsOf([...new Set(ids.filter((id): id is string => id !== undefined))]);
    const now = this.#d.clock.now();
    const items: Array<{ run: Run } | { error: Error }> = [];
    const fired: Array<{ job: Job; run: Run }> = [];
    const room = this.#d.runs().room();
    for (let i = 0; i < refs.length; i++) {
      const id = ids[i];
      const job = id === undefined ? undefined : jobs.get(id);
      if (job === undefined) {
        items.push({ error: new NotFoundError(`job '${refs[i]}' not found`) });
        continue;
      }
      // A full ready queue refuses the caller (QueueFullError) and records nothing.
      try {
        this.#d.runs().assertRoom(room - fired.length);
      } catch (err) {
        items.push({ error: err as Error });
        continue;
      }
      const run = newRun(job, 'manual', now, 1, now);
      this.#d.runs().fired(job.id);
      fired.push({ job, run });
      items.push({ run });
    }
    let durable: Promise<void> = Promise.resolve();
    if (fired.length > 0) {
      let resolve!: () => void;
      let reject!: (err: Error) => void;
      durable = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
      durable.catch(() => undefined);
      // Failed (ActorDeadError) if this incarnation crashes before the batch is durable.
      this.#awaitingDurable.add(reject);
      this.#d.commit.add({ runs: fired.map((f) => f.run) }, (result) => {
        this.#awaitingDurable.delete(reject);
        const dropped = result.dropped.length === 0 ? null : new Set(result.dropped);
        for (const { job, run } of fired) this.#d.runs().fireDurable(job, run, 'start', dropped?.has(job.id) ?? false);
        resolve();
      });
      await this.#d.endTurn();
    }
    return { items, durable };
  }

  /**
   * Entries the timer popped. A large batch is handled in time slices (src/runtime/slice.ts): each
   * slice's fires are sent to the commit before the thread is yielded (so they become durable
   * meanwhile), and the next slice decides at the time it resumes.
   */
  async slotsDue(due: Array<{ jobId: string; at: number }>): Promise<void> {
    if (this.#d.stopping()) return;
    let now = this.#d.clock.now();
    const jobs = await this.#d.jobs.jobsOf(due.filter((e) => !e.jobId.startsWith(RETRY_KEY_PREFIX)).map((e) => e.jobId));
    await runSliced(due, ({ jobId: key, at }) => {
      if (key.startsWith(RETRY_KEY_PREFIX)) {
        // Handed over within the timer's lead: it waits for its time beside the fires committed ahead.
        if (at > now) this.#d.ahead.retryEarly(key, at);
        else this.#d.runs().retryDue(key.slice(RETRY_KEY_PREFIX.length));
        return;
      }
      const job = jobs.get(key);
      const schedule = job === undefined ? undefined : this.#d.jobs.schedule(job);
      if (job === undefined || schedule === undefined || !job.enabled || job.completedAt !== null) return;
      this.#d.slots.due(job, schedule, at, now);
    }, { beforeYield: () => this.#d.sendTurn(), afterYield: () => { now = this.#d.clock.now(); } });
    await this.#d.endTurn();
  }

  /**
   * Fires one slot (or one triggered run): the overlap policy decides in memory; the slot's
   * outcome and its run go to the open batch together (a slot already recorded is deduped: no slot
   * ever runs twice); the run waits for capacity once that batch is durable.
   */
  fireSlot(job: Job, slotAt: number, trigger: RunTrigger, slotted: boolean, event: RunEvent | null = null): Run {
    const verdict = this.#d.runs().verdict(job);
    // Catch-up runs the policy chose are not skipped by overlap: they wait their turn, one by one.
    if (trigger === 'catch-up' && verdict.decision === 'skip') verdict.decision = 'enqueue';
    const now = this.#d.clock.now();
    if (verdict.decision === 'skip') {
      // A skipped fire is a `skipped` run in history (counted in stats and metrics), beside its slot.
      const skipped = abandonRun(newRun(job, trigger, slotAt, 1, now), 'skipped', verdict.reason ?? 'overlap policy', now);
      const published = (writtenOff: boolean): void => {
        if (!writtenOff) this.#d.bus.publish({ type: 'run.finished', at: iso(this.#d.clock.now()), run: skipped });
      };
      if (slotted) this.#d.slots.record(job, slotAt, 'skipped', skipped, verdict.reason, published);
      else this.#d.commit.add({ runs: [skipped] }, (result) => published(result.dropped.includes(job.id)));
      return skipped;
    }
    const run = newRun(job, trigger, slotAt, 1, now);
    this.#d.runs().fired(job.id);
    if (event !== null) this.#d.runs().attachEvent(run.id, event);
    const after = (writtenOff: boolean): void => this.#d.runs().fireDurable(job, run, verdict.decision, writtenOff);
    if (slotted) this.#d.slots.record(job, slotAt, trigger === 'catch-up' ? 'caught-up' : 'fired', run, null, after);
    else this.#d.commit.add({ runs: [run] }, (result) => after(result.dropped.includes(job.id)));
    return run;
  }

  /** A watch or usage trigger of the job fired: the job runs (trigger `event`), under its overlap policy. */
  async triggerFired(jobId: string, reason: string, event: RunEvent | null): Promise<void> {
    if (this.#d.stopping()) return;
    const job = await this.#d.jobs.job(jobId);
    if (job === undefined || !job.enabled || job.completedAt !== null) return;
    this.#d.logger.info({ jobId, name: job.name, reason }, 'trigger fired');
    const now = this.#d.clock.now();
    this.#d.triggerLog.note(job, eventTriggerKey(job, reason), reason, this.fireSlot(job, now, 'event', false, event), now);
    await this.#d.endTurn();
  }

  /** Jobs with `--after JOB[:outcome]` on this job run when its final attempt ends that way. */
  async fireDependents(job: Job, run: Run): Promise<void> {
    if (this.#d.stopping()) return;
    const outcome = run.status === 'succeeded' ? 'succeeded' : 'failed';
    for (const id of this.#d.index.dependentsOf(job)) {
      const dep = await this.#d.jobs.job(id);
      if (dep === undefined || !dep.enabled || dep.completedAt !== null) continue;
      const key = afterTriggerKey(dep, job, outcome);
      if (key === null) continue;
      const now = this.#d.clock.now();
      this.#d.triggerLog.note(dep, key, `after ${job.name} ${run.status} (${run.id})`, this.fireSlot(dep, now, 'dependency', false), now);
    }
    await this.#d.endTurn();
  }
}
