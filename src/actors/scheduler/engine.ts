/**
 * The scheduler actor's behaviour: job lifecycle and the life of every slot and run. It runs on the
 * main thread, one message at a time, so its maps need no locks. It asks the parser and persistence
 * (thread actors) and the queue and executor (main-thread actors); none of those ever asks back, so
 * no cycle of waits can form. Progress from the queue's timer and the executor arrives as messages.
 */
import type { Logger, WhyReport } from '../../api';
import { ConflictError, NotFoundError, SchedulerError, ShutdownError, ValidationError } from '../../errors';
import type { Job } from '../../model/job';
import type { Run, RunTrigger } from '../../model/run';
import type { SchedulerEvent } from '../../model/events';
import type { Clock } from '../../runtime/clock';
import type { EventBus } from '../../runtime/event-bus';
import type { ActorRef } from '../../runtime/types';
import type { ParserHandlers } from '../parser/actor';
import type { Schedule } from '../parser/schedule';
import type { PersistenceHandlers, ScheduleState } from '../persistence/actor';
import type { QueueHandlers } from '../queue/actor';
import type { ExecutorHandlers } from '../executor/actor';
import type { RunResult } from '../executor/types';
import { fillJobSpec } from './job-spec';
import { abandonRun, finishRun, iso, jobState, newRun } from './runs';
import { SlotKeeper } from './slots';
import { newId } from '../../model/ids';
import { shouldRetry, retryDelay } from '../executor/retry-policy';
import { RETRY_KEY_PREFIX } from '../queue/actor';

/** What the engine talks to. */
export interface EngineDeps {
  clock: Clock;
  logger: Logger;
  mode: 'active' | 'offline';
  maxConcurrent: number;
  parser: ActorRef<ParserHandlers>;
  persistence: ActorRef<PersistenceHandlers>;
  queue: ActorRef<QueueHandlers>;
  executor: ActorRef<ExecutorHandlers>;
  bus: EventBus<SchedulerEvent>;
}

/** Longest retry backoff. */
const MAX_BACKOFF_MS = 3_600_000;

/** The scheduler actor's messages. */
export type SchedulerHandlers = ReturnType<Engine['handlers']>;

/** State and handlers of the scheduler actor. */
export class Engine {
  readonly #d: EngineDeps;
  readonly #jobs = new Map<string, Job>();
  readonly #names = new Map<string, string>();
  readonly #schedules = new Map<string, Schedule>();
  readonly #lastRuns = new Map<string, Run>();
  /** Runs executing now. */
  readonly #running = new Map<string, Run>();
  /** Runs in the ready queue, waiting for capacity. */
  readonly #queued = new Map<string, Run>();
  /** Runs held behind a running run of their job (overlap `queue`), per job, in order. */
  readonly #held = new Map<string, Run[]>();
  /** Retry runs waiting for their backoff to elapse (armed in the timeline as `retry:<runId>`). */
  readonly #retries = new Map<string, Run>();
  readonly #slots: SlotKeeper;
  #stopping = false;

  constructor(deps: EngineDeps) {
    this.#d = deps;
    this.#slots = new SlotKeeper({
      clock: deps.clock,
      persistence: deps.persistence,
      queue: deps.queue,
      bus: deps.bus,
      logger: deps.logger,
      fire: (job, slotAt, trigger, state) => this.#fireSlot(job, slotAt, trigger, state),
      complete: (job) => this.#complete(job),
      scheduleOf: (jobId) => this.#schedules.get(jobId),
    });
  }

  /** The message handlers (bound). */
  handlers() {
    return {
      load: () => this.#load(),
      start: (p: { reboot: boolean }) => this.#start(p.reboot),
      reload: (_p: Record<string, never>) => this.#reload(),
      executorLost: (_p: Record<string, never>) => this.#executorLost(),
      addJob: (p: { spec: unknown }) => this.#addJob(p.spec),
      removeJob: (p: { ref: string }) => this.#removeJob(p.ref),
      getJob: (p: { ref: string }) => this.#present(this.#find(p.ref)),
      listJobs: (_p: Record<string, never>) => this.#listJobs(),
      setEnabled: (p: { ref: string; enabled: boolean }) => this.#setEnabled(p.ref, p.enabled),
      runNow: (p: { ref: string }) => this.#runNow(p.ref),
      history: (p: { ref: string; limit?: number }) =>
        this.#d.persistence.ask('listRuns', { jobId: this.#find(p.ref).id, limit: p.limit ?? 20 }),
      why: (p: { ref: string }) => this.#why(p.ref),
      jobCounts: (_p: Record<string, never>) => this.#jobCounts(),
      runningCount: (_p: Record<string, never>) => this.#running.size,
      slotsDue: (p: { due: Array<{ jobId: string; at: number }> }) => this.#slotsDue(p.due),
      clockJumped: (p: { deltaMs: number }) => this.#slots.clockJumped(this.#activeJobs(), p.deltaMs),
      rearm: (_p: Record<string, never>) => this.#rearmAll(),
      runFinished: (p: { runId: string; result: RunResult }) => this.#runFinished(p.runId, p.result),
      beginShutdown: (_p: Record<string, never>) => { this.#stopping = true; },
      drain: (_p: Record<string, never>) => this.#running.size,
    };
  }

  // ---- start-up ----------------------------------------------------------------------------

  /** Loads jobs and parses their schedules (both modes). */
  async #load(): Promise<void> {
    const jobs = await this.#d.persistence.ask('listJobs', {});
    const now = this.#d.clock.now();
    for (const job of jobs) {
      this.#jobs.set(job.id, job);
      this.#names.set(job.name, job.id);
      try {
        this.#schedules.set(job.id, await this.#d.parser.ask('parse', { text: job.schedule, tz: job.timezone, now }));
      } catch (err) {
        this.#d.logger.error({ jobId: job.id, err: String(err) }, 'stored schedule no longer parses; job not armed');
      }
    }
  }

  /** Active mode: recovers runs left by a crash, accounts for missed slots, arms the timeline. */
  async #start(reboot: boolean): Promise<void> {
    const now = this.#d.clock.now();
    const unfinished = await this.#d.persistence.ask('listUnfinishedRuns', {});
    for (const run of unfinished) await this.#recoverRun(run, now);
    for (const job of this.#activeJobs()) {
      const schedule = this.#schedules.get(job.id)!;
      if (schedule.kind === 'event') {
        if (schedule.event === 'reboot' && reboot) await this.#fireSlot(job, now, 'event', null);
        continue;
      }
      await this.#slots.recover(job, schedule, now);
    }
    this.#d.bus.publish({ type: 'scheduler.started', at: iso(now) });
    await this.#pump();
  }

  /** A run that was running at a crash is `interrupted` (and retried per policy); a queued one is re-queued. */
  async #recoverRun(run: Run, now: number): Promise<void> {
    const job = this.#jobs.get(run.jobId);
    if (job === undefined) return;
    if (run.status === 'running') {
      const done = abandonRun(run, 'interrupted', 'the scheduler stopped while this run was in flight', now);
      await this.#d.persistence.ask('putRun', { run: done });
      this.#lastRuns.set(job.id, done);
      this.#d.bus.publish({ type: 'run.finished', at: iso(now), run: done });
      if (done.attempt <= job.retry.maxRetries) await this.#scheduleRetry(job, done, now);
      return;
    }
    if (run.trigger === 'retry' && Date.parse(run.scheduledAt) > now) {
      this.#retries.set(run.id, run);
      await this.#d.queue.ask('arm', { key: RETRY_KEY_PREFIX + run.id, at: Date.parse(run.scheduledAt) });
      return;
    }
    await this.#enqueue(job, run);
  }

  /** After a restore: forget everything, reload from the store, re-arm. */
  async #reload(): Promise<void> {
    for (const id of this.#jobs.keys()) {
      for (const item of await this.#d.queue.ask('removeJob', { jobId: id })) this.#queued.delete(item.runId);
      this.#slots.forget(id);
    }
    for (const id of this.#retries.keys()) await this.#d.queue.ask('disarm', { key: RETRY_KEY_PREFIX + id });
    this.#jobs.clear();
    this.#names.clear();
    this.#schedules.clear();
    this.#lastRuns.clear();
    this.#held.clear();
    this.#retries.clear();
    this.#queued.clear();
    await this.#load();
    if (this.#d.mode === 'active') await this.#start(false);
  }

  /** The executor's incarnation died: its runs' processes are gone with it. */
  async #executorLost(): Promise<void> {
    const now = this.#d.clock.now();
    for (const run of [...this.#running.values()]) {
      this.#running.delete(run.id);
      const job = this.#jobs.get(run.jobId);
      const done = abandonRun(run, 'interrupted', 'the executor crashed while this run was in flight', now);
      if (job === undefined) continue;
      await this.#finish(job, done);
      if (done.attempt <= job.retry.maxRetries) await this.#scheduleRetry(job, done, now);
    }
    await this.#pump();
  }

  async #rearmAll(): Promise<void> {
    for (const job of this.#activeJobs()) {
      const schedule = this.#schedules.get(job.id)!;
      if (schedule.kind !== 'event') await this.#slots.arm(job, schedule, this.#d.clock.now());
    }
    for (const run of this.#retries.values()) {
      await this.#d.queue.ask('arm', { key: RETRY_KEY_PREFIX + run.id, at: Date.parse(run.scheduledAt) });
    }
  }

  // ---- job lifecycle -----------------------------------------------------------------------

  async #addJob(input: unknown): Promise<Job> {
    this.#refuseIfStopping();
    const spec = fillJobSpec(input);
    if (spec.triggers.some((t) => t.type !== 'after')) {
      throw new ValidationError('triggers: --watch and --when triggers are not available in this version', 'triggers');
    }
    for (const t of spec.triggers) {
      if (t.type === 'after' && !this.#names.has(t.job) && !this.#jobs.has(t.job)) {
        throw new ValidationError(`triggers: --after names job '${t.job}', which does not exist`, 'after');
      }
    }
    if (this.#names.has(spec.name)) throw new ConflictError(`name: a job named '${spec.name}' already exists`);
    const now = this.#d.clock.now();
    const schedule = await this.#d.parser.ask('parse', { text: spec.schedule, tz: spec.timezone, now });
    const job: Job = {
      id: newId('job', now),
      ...spec,
      schedule: schedule.canonical,
      createdAt: iso(now),
      updatedAt: iso(now),
      completedAt: null,
      nextRunAt: null,
      lastRun: null,
      state: 'scheduled',
    };
    await this.#d.persistence.ask('insertJob', { job });
    this.#jobs.set(job.id, job);
    this.#names.set(job.name, job.id);
    this.#schedules.set(job.id, schedule);
    const state: ScheduleState = { jobId: job.id, lastSlotAt: null, nextRunAt: null, anchorAt: job.createdAt };
    await this.#d.persistence.ask('putScheduleState', { jobId: job.id, state });
    if (this.#d.mode === 'active' && job.enabled && schedule.kind !== 'event') await this.#slots.arm(job, schedule, now);
    const shown = await this.#present(job);
    this.#d.bus.publish({ type: 'job.added', at: iso(now), job: shown });
    return shown;
  }

  async #removeJob(ref: string): Promise<void> {
    const job = this.#find(ref);
    const now = this.#d.clock.now();
    for (const item of await this.#d.queue.ask('removeJob', { jobId: job.id })) this.#queued.delete(item.runId);
    for (const run of this.#running.values()) {
      if (run.jobId === job.id) await this.#d.executor.ask('cancel', { runId: run.id, reason: 'manual' });
    }
    for (const run of this.#retries.values()) {
      if (run.jobId === job.id) {
        this.#retries.delete(run.id);
        await this.#d.queue.ask('disarm', { key: RETRY_KEY_PREFIX + run.id });
      }
    }
    this.#held.delete(job.id);
    await this.#d.persistence.ask('deleteJob', { id: job.id });
    this.#jobs.delete(job.id);
    this.#names.delete(job.name);
    this.#schedules.delete(job.id);
    this.#lastRuns.delete(job.id);
    this.#slots.forget(job.id);
    this.#d.bus.publish({ type: 'job.removed', at: iso(now), jobId: job.id, name: job.name });
  }

  async #setEnabled(ref: string, enabled: boolean): Promise<Job> {
    const job = this.#find(ref);
    const now = this.#d.clock.now();
    if (job.enabled !== enabled) {
      const updated: Job = { ...job, enabled, updatedAt: iso(now) };
      await this.#d.persistence.ask('updateJob', { job: updated });
      this.#jobs.set(job.id, updated);
      const schedule = this.#schedules.get(job.id);
      if (!enabled) {
        await this.#d.queue.ask('disarm', { key: job.id });
        this.#slots.forget(job.id);
      } else if (this.#d.mode === 'active' && schedule !== undefined && schedule.kind !== 'event' && updated.completedAt === null) {
        // Slots while paused are not "missed": account for them up to now, then arm the next one.
        await this.#slots.resume(updated, schedule, now);
      }
      const shown = await this.#present(updated);
      this.#d.bus.publish({ type: 'job.updated', at: iso(now), job: shown });
      return shown;
    }
    return this.#present(job);
  }

  async #runNow(ref: string): Promise<Run> {
    this.#refuseIfStopping();
    const job = this.#find(ref);
    const now = this.#d.clock.now();
    const run = newRun(job, 'manual', now, 1, now);
    await this.#d.persistence.ask('putRun', { run });
    this.#d.bus.publish({ type: 'run.queued', at: iso(now), run });
    await this.#enqueue(job, run);
    await this.#pump();
    return run;
  }

  #complete(job: Job): Promise<void> {
    const done: Job = { ...job, completedAt: iso(this.#d.clock.now()), updatedAt: iso(this.#d.clock.now()) };
    this.#jobs.set(job.id, done);
    return this.#d.persistence.ask('updateJob', { job: done });
  }

  // ---- firing ------------------------------------------------------------------------------

  async #slotsDue(due: Array<{ jobId: string; at: number }>): Promise<void> {
    if (this.#stopping) return;
    const now = this.#d.clock.now();
    for (const { jobId: key, at } of due) {
      if (key.startsWith(RETRY_KEY_PREFIX)) {
        const run = this.#retries.get(key.slice(RETRY_KEY_PREFIX.length));
        if (run === undefined) continue;
        this.#retries.delete(run.id);
        const job = this.#jobs.get(run.jobId);
        if (job !== undefined) await this.#enqueue(job, run);
        continue;
      }
      const job = this.#jobs.get(key);
      const schedule = this.#schedules.get(key);
      if (job === undefined || schedule === undefined || !job.enabled || job.completedAt !== null) continue;
      await this.#slots.due(job, schedule, at, now);
    }
    await this.#pump();
  }

  /**
   * Fires one slot: applies the overlap policy, records the slot's outcome together with its run in
   * one transaction (a slot already recorded is deduped: no slot ever runs twice), then queues the run.
   */
  async #fireSlot(job: Job, slotAt: number, trigger: RunTrigger, state: ScheduleState | null): Promise<void> {
    const now = this.#d.clock.now();
    const running = [...this.#running.values()].filter((r) => r.jobId === job.id);
    const queued = (this.#held.get(job.id)?.length ?? 0) + await this.#d.queue.ask('countForJob', { jobId: job.id });
    const verdict = this.#slots.overlap(job, running.length, queued);
    // Catch-up runs the policy chose are not skipped by overlap: they wait their turn, one by one.
    if (trigger === 'catch-up' && verdict.decision === 'skip') verdict.decision = 'enqueue';
    if (verdict.decision === 'skip') {
      if (state !== null) await this.#slots.record(job, slotAt, 'skipped', null, verdict.reason, state);
      return;
    }
    const run = newRun(job, trigger, slotAt, 1, now);
    if (state !== null) {
      const outcome = trigger === 'catch-up' ? 'caught-up' : 'fired';
      if (!await this.#slots.record(job, slotAt, outcome, run, null, state)) return;
    } else {
      await this.#d.persistence.ask('putRun', { run });
    }
    this.#d.bus.publish({ type: 'run.queued', at: iso(now), run });
    if (verdict.decision === 'replace') {
      for (const r of running) await this.#d.executor.ask('cancel', { runId: r.id, reason: 'replace' });
    }
    if (verdict.decision === 'enqueue') {
      const held = this.#held.get(job.id) ?? [];
      held.push(run);
      this.#held.set(job.id, held);
      return;
    }
    await this.#enqueue(job, run);
  }

  /** Puts a run in the ready queue; a full queue turns it into a `skipped` run with the reason. */
  async #enqueue(job: Job, run: Run): Promise<void> {
    try {
      await this.#d.queue.ask('enqueue', {
        item: { runId: run.id, jobId: job.id, priority: job.priority, dueAt: Date.parse(run.scheduledAt), slotAt: null },
      });
      this.#queued.set(run.id, run);
    } catch (err) {
      if (!(err instanceof SchedulerError) || err.code !== 'QUEUE_FULL') throw err;
      await this.#finish(job, abandonRun(run, 'skipped', `ready queue full: ${err.message}`, this.#d.clock.now()));
    }
  }

  /** Starts queued runs while there is capacity (the executor pulls; that is the backpressure). */
  async #pump(): Promise<void> {
    while (!this.#stopping && this.#running.size < this.#d.maxConcurrent) {
      const item = await this.#d.queue.ask('pull', {});
      if (item === null) return;
      const run = this.#queued.get(item.runId);
      const job = this.#jobs.get(item.jobId);
      this.#queued.delete(item.runId);
      if (run === undefined || job === undefined) continue;
      const now = this.#d.clock.now();
      const started: Run = { ...run, status: 'running', startedAt: iso(now) };
      await this.#d.persistence.ask('putRun', { run: started });
      this.#running.set(run.id, started);
      this.#d.bus.publish({ type: 'run.started', at: iso(now), run: started });
      await this.#d.executor.ask('start', {
        request: {
          runId: run.id, jobId: job.id, attempt: run.attempt, command: job.command, module: job.module,
          cwd: job.cwd, env: job.env, limits: job.limits,
        },
      });
    }
  }

  async #runFinished(runId: string, result: RunResult): Promise<void> {
    const run = this.#running.get(runId);
    if (run === undefined) return;
    this.#running.delete(runId);
    const job = this.#jobs.get(run.jobId);
    const done = finishRun(run, result, this.#d.clock.now());
    if (job === undefined) {
      this.#d.bus.publish({ type: 'run.finished', at: iso(this.#d.clock.now()), run: done });
      return;
    }
    await this.#finish(job, done);
    const now = this.#d.clock.now();
    const retrying = !this.#stopping && shouldRetry(done.status as RunResult['status'], done.attempt, job.retry.maxRetries);
    if (retrying) await this.#scheduleRetry(job, done, now);
    else if (!this.#stopping) await this.#fireDependents(job, done);
    const held = this.#held.get(job.id);
    if (held !== undefined && held.length > 0 && ![...this.#running.values()].some((r) => r.jobId === job.id)) {
      await this.#enqueue(job, held.shift()!);
      if (held.length === 0) this.#held.delete(job.id);
    }
    await this.#pump();
  }

  async #finish(job: Job, run: Run): Promise<void> {
    await this.#d.persistence.ask('putRun', { run });
    this.#lastRuns.set(job.id, run);
    this.#d.bus.publish({ type: 'run.finished', at: iso(this.#d.clock.now()), run });
  }

  /** Retries go through the timeline (`retry:<runId>`), never by sleeping. */
  async #scheduleRetry(job: Job, failed: Run, now: number): Promise<void> {
    const delay = retryDelay(failed.attempt, { baseMs: job.retry.backoffMs, maxMs: MAX_BACKOFF_MS, jitter: 0.2 });
    const retry = newRun(job, 'retry', now + delay, failed.attempt + 1, now);
    await this.#d.persistence.ask('putRun', { run: retry });
    this.#retries.set(retry.id, retry);
    this.#d.bus.publish({ type: 'run.queued', at: iso(now), run: retry });
    await this.#d.queue.ask('arm', { key: RETRY_KEY_PREFIX + retry.id, at: now + delay });
  }

  /** Jobs with `--after JOB[:outcome]` on this job run when its final attempt ends that way. */
  async #fireDependents(job: Job, run: Run): Promise<void> {
    const outcome = run.status === 'succeeded' ? 'succeeded' : 'failed';
    for (const dep of this.#jobs.values()) {
      if (!dep.enabled || dep.completedAt !== null) continue;
      const hit = dep.triggers.some((t) => t.type === 'after' && (t.job === job.name || t.job === job.id) &&
        (t.on === 'finished' || t.on === outcome));
      if (hit) await this.#fireSlot(dep, this.#d.clock.now(), 'dependency', null);
    }
  }

  // ---- queries -----------------------------------------------------------------------------

  #find(ref: string): Job {
    const job = this.#jobs.get(ref) ?? this.#jobs.get(this.#names.get(ref) ?? '');
    if (job === undefined) throw new NotFoundError(`job '${ref}' not found`);
    return job;
  }

  #activeJobs(): Job[] {
    return [...this.#jobs.values()].filter((j) => j.enabled && j.completedAt === null && this.#schedules.has(j.id));
  }

  async #present(job: Job): Promise<Job> {
    let lastRun = this.#lastRuns.get(job.id);
    if (lastRun === undefined) {
      lastRun = (await this.#d.persistence.ask('listRuns', { jobId: job.id, limit: 1 }))[0];
      if (lastRun !== undefined) this.#lastRuns.set(job.id, lastRun);
    }
    const schedule = this.#schedules.get(job.id);
    const next = await this.#slots.nextRunAt(job, schedule, this.#d.mode === 'active');
    return { ...job, nextRunAt: next === null ? null : iso(next), lastRun: lastRun ?? null, state: jobState(job, schedule) };
  }

  async #listJobs(): Promise<Job[]> {
    const out: Job[] = [];
    for (const job of this.#jobs.values()) out.push(await this.#present(job));
    return out;
  }

  #jobCounts(): { total: number; enabled: number; paused: number; done: number } {
    let enabled = 0;
    let paused = 0;
    let done = 0;
    for (const j of this.#jobs.values()) {
      if (j.completedAt !== null) done++;
      else if (j.enabled) enabled++;
      else paused++;
    }
    return { total: this.#jobs.size, enabled, paused, done };
  }

  async #why(ref: string): Promise<WhyReport> {
    const job = await this.#present(this.#find(ref));
    const slots = await this.#d.persistence.ask('listSlots', { jobId: job.id, limit: 20 });
    const blockers: string[] = [];
    const schedule = this.#schedules.get(job.id);
    if (this.#d.mode === 'offline') blockers.push('no daemon is running on this data directory: nothing fires until `rae-sched daemon` runs');
    if (!job.enabled) blockers.push('the job is paused (rae-sched resume to restart it)');
    if (job.completedAt !== null) blockers.push(`one-time job: it fired its only slot (done at ${job.completedAt})`);
    if (schedule === undefined) blockers.push('its stored schedule no longer parses');
    else if (schedule.kind === 'event') {
      blockers.push(schedule.event === 'never' ? "schedule 'never': it fires only through `run` or a trigger" : '@reboot: it fires when the daemon starts');
    }
    const running = [...this.#running.values()].filter((r) => r.jobId === job.id);
    if (running.length > 0 && job.overlap === 'skip') {
      blockers.push(`a run (${running[0]!.id}) is still running and overlap is 'skip': slots that come meanwhile are skipped`);
    }
    if (this.#running.size >= this.#d.maxConcurrent) blockers.push(`the executor is at capacity (${this.#d.maxConcurrent} runs)`);
    return { job, slots, nextRunAt: job.nextRunAt, blockers };
  }

  #refuseIfStopping(): void {
    if (this.#stopping) throw new ShutdownError('the scheduler is shutting down');
  }
}
