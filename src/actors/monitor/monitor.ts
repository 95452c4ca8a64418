/**
 * The monitor: follows the event bus and answers `stats()`, `health()` and `metrics()`.
 * Counts come from events seen since this monitor started (the process's lifetime), live values
 * (queue, jobs, components) from probes at the moment of the call — the constructor's, or the
 * ones an answer is given (the monitor actor reads a fresh set of live values per answer, so
 * answers that run side by side do not see each other's). Memory is bounded: a fixed
 * window of durations, capped label values.
 */
import type { Observable, Subscription } from 'rxjs';
import type { ComponentHealth, Health, Stats } from '../../model';
import { ValidationError } from '../../errors';
import type { SchedulerEvent } from '../../model/events';
import { FINAL_RUN_STATUSES, epochOf, slotCount, type Run, type RunStatus } from '../../model/run';
import type { Clock } from '../../runtime/clock';
import { runSliced } from '../../runtime/slice';
import { DurationWindow } from './duration-window';
import { LabelCap } from './label-cap';
import { MonitorMetrics } from './metrics';
import { percentilesOf, runsOf, type RunRollup } from '../persistence/rollup';

/** Live values the monitor asks for when it answers (the scheduler wires them to its actors). */
export interface MonitorProbes {
  queue(): { depth: number; running: number; scheduled: number };
  components(): Record<string, ComponentHealth>;
  jobs(): Promise<{ total: number; enabled: number; paused: number; done: number }>;
  /**
   * Run statistics of the whole stored history, rolled up in the store as runs finish. When given,
   * `stats()` reports these instead of the runs this monitor saw since it started.
   */
  rollup?(): RunRollup;
  /** Events that never reached the monitor (its mailbox refused them), counted by whoever tells it. */
  lostEvents?(): number;
}

/** Options of {@link Monitor}. */
export interface MonitorOptions {
  /** Also expose this process's own metrics (prom-client's default collectors). @default false */
  processMetrics?: boolean;
  clock: Clock;
  /** Followed when given; otherwise events come through {@link Monitor.observe} (the monitor actor). */
  events$?: Observable<SchedulerEvent>;
  probes: MonitorProbes;
  /** Most recent run durations kept for percentiles. @default 10000 */
  durationWindow?: number;
  /** Distinct job names exported as the `job` label; later ones are exported as `_other`. @default 500 */
  maxJobLabels?: number;
  /**
   * Monotonic time (on `clock`) uptime counts from. A restarted monitor is given its scheduler's
   * start, so `uptimeMs` and `rae_uptime_seconds` do not restart with it. @default now
   */
  startedMono?: number;
}

type FinalStatus = Exclude<RunStatus, 'queued' | 'running'>;

/**
 * The event types {@link Monitor.observe} takes into account (the cases of its `#observe`): the
 * scheduler sends the monitor only these. `run.queued` is not one, and was a third of the events
 * of every run, each copied to a monitor in its own thread.
 */
export const MONITORED_EVENTS: ReadonlySet<SchedulerEvent['type']> = new Set<SchedulerEvent['type']>([
  'job.added', 'job.updated', 'job.removed', 'run.started', 'run.finished', 'slot.recorded', 'actor.restarted', 'clock.jumped',
]);

/**
 * @example
 * const monitor = new Monitor({ clock, events$: bus.events$, probes: { queue: () => queue.counts(), components: () => sup.health(), jobs: () => store.jobCounts() } });
 * const stats = await monitor.stats();
 * const text = await monitor.metrics(); // Prometheus exposition
 */
export class Monitor {
  readonly #clock: Clock;
  readonly #probes: MonitorProbes;
  readonly #startMono: number;
  readonly #metrics: MonitorMetrics;
  readonly #durations: DurationWindow;
  readonly #jobLabels: LabelCap;
  readonly #actorLabels = new LabelCap(100);
  readonly #names = new Map<string, string>();
  readonly #counts = Object.fromEntries(FINAL_RUN_STATUSES.map((s) => [s, 0])) as Record<FinalStatus, number>;
  readonly #restarts = new Map<string, number>();
  /** Finished runs counted in this batch of events, per job label and status (see #flushRunCounts). */
  readonly #pendingRuns = new Map<string, Map<FinalStatus, number>>();
  readonly #sub: Subscription | null;
  #droppedEvents = 0;
  #exportedDropped = 0;
  #exportedLost = 0;

  constructor(opts: MonitorOptions) {
    this.#metrics = new MonitorMetrics(opts.processMetrics === true);
    const maxJobLabels = opts.maxJobLabels ?? 500;
    if (!Number.isInteger(maxJobLabels) || maxJobLabels < 1) {
      throw new ValidationError(`maxJobLabels must be an integer >= 1, got ${String(maxJobLabels)}`, 'maxJobLabels');
    }
    this.#clock = opts.clock;
    this.#probes = opts.probes;
    this.#startMono = opts.startedMono ?? opts.clock.monotonic();
    this.#durations = new DurationWindow(opts.durationWindow ?? 10_000);
    this.#jobLabels = new LabelCap(maxJobLabels);
    this.#sub = opts.events$?.subscribe({ next: (e) => this.#take(e), error: () => undefined }) ?? null;
  }

  /**
   * Takes in events, in order. A malformed one is counted (`rae_monitor_event_errors_total`) and
   * skipped. Many events (a burst's) are taken in time slices (src/runtime/slice.ts): then the
   * returned promise settles once all are in.
   */
  observe(events: readonly SchedulerEvent[]): void | Promise<void> {
    // Run counts are flushed once per slice (before each yield and at the end), not per event.
    const flush = (): void => this.#flushRunCounts();
    const sliced = runSliced(events, (e) => this.#takeOne(e), { beforeYield: flush });
    if (sliced === undefined) return flush();
    return sliced.finally(flush);
  }

  /** One event from the `events$` subscription. */
  #take(e: SchedulerEvent): void {
    this.#takeOne(e);
    this.#flushRunCounts();
  }

  #takeOne(e: SchedulerEvent): void {
    try {
      this.#observe(e);
    } catch {
      this.#droppedEvents++;
    }
  }

  /**
   * `rae_runs_total` moves once per (job, status) and batch of events, not once per run: a busy
   * scheduler finishes thousands of runs of the same job per second, and each prom-client `inc`
   * hashes its labels.
   */
  #flushRunCounts(): void {
    for (const [job, byStatus] of this.#pendingRuns) {
      for (const [status, n] of byStatus) this.#metrics.runs.inc({ job, status }, n);
    }
    this.#pendingRuns.clear();
  }

  /** Events that could not be interpreted (ignored, counted). */
  get droppedEvents(): number {
    return this.#droppedEvents;
  }

  /** Content-Type of {@link metrics}' text. */
  get metricsContentType(): string {
    return this.#metrics.registry.contentType;
  }

  /** Job names known at start-up, so metric labels carry names (not ids) from the first run on. */
  seedNames(jobNames: Array<[string, string]>): void {
    for (const [id, name] of jobNames) this.#names.set(id, name);
  }

  /** Counts, success rate, duration percentiles, queue, restarts and uptime. */
  async stats(probes: MonitorProbes = this.#probes): Promise<Stats> {
    const jobs = await probes.jobs();
    const rollup = probes.rollup?.();
    return {
      jobs: { ...jobs },
      ...(rollup !== undefined
        ? { runs: runsOf(rollup.counts), durationMs: percentilesOf(rollup) }
        // Without a store: the runs this monitor saw since it started.
        : { runs: runsOf(this.#counts), durationMs: this.#durations.summary() }),
      queue: { ...probes.queue() },
      restarts: this.#mergedRestarts(this.#components(probes).components),
      uptimeMs: this.#clock.monotonic() - this.#startMono,
    };
  }

  /** Each component's health; healthy when every component is. */
  async health(probes: MonitorProbes = this.#probes): Promise<Health> {
    return this.#components(probes);
  }

  /** Prometheus text exposition (version 0.0.4) of this scheduler's metrics. */
  async metrics(probes: MonitorProbes = this.#probes): Promise<string> {
    const m = this.#metrics;
    const q = probes.queue();
    m.queueDepth.set(q.depth);
    m.running.set(q.running);
    m.scheduled.set(q.scheduled);
    const jobs = await probes.jobs();
    for (const state of ['total', 'enabled', 'paused', 'done'] as const) m.jobs.set({ state }, jobs[state]);
    for (const [name, h] of Object.entries(this.#components(probes).components)) m.componentUp.set({ component: name }, h.healthy ? 1 : 0);
    m.uptime.set((this.#clock.monotonic() - this.#startMono) / 1000);
    m.eventErrors.inc(this.#droppedEvents - this.#exportedDropped);
    this.#exportedDropped = this.#droppedEvents;
    const lost = probes.lostEvents?.() ?? 0;
    if (lost > this.#exportedLost) m.eventsLost.inc(lost - this.#exportedLost);
    this.#exportedLost = Math.max(lost, this.#exportedLost);
    return m.registry.metrics();
  }

  /** Stops following the event bus (answers stay available, frozen at their last values). */
  stop(): void {
    this.#sub?.unsubscribe();
  }

  #observe(e: SchedulerEvent): void {
    switch (e.type) {
      case 'job.added':
      case 'job.updated':
        this.#names.set(e.job.id, e.job.name);
        break;
      case 'job.removed':
        this.#names.delete(e.jobId);
        break;
      case 'run.started':
        this.#started(e.run, e.at);
        break;
      case 'run.finished':
        this.#finished(e.run);
        break;
      case 'slot.recorded':
        this.#metrics.slots.inc({ outcome: e.slot.outcome }, slotCount(e.slot));
        break;
      case 'actor.restarted':
        this.#restarts.set(e.actor, (this.#restarts.get(e.actor) ?? 0) + 1);
        this.#metrics.restarts.inc({ actor: this.#actorLabels.label(e.actor) });
        break;
      case 'clock.jumped':
        this.#metrics.clockJumps.inc();
        break;
      default:
        break;
    }
  }

  #started(run: Run, at: string): void {
    const started = epochOf(run.startedAt ?? at);
    const scheduled = epochOf(run.scheduledAt);
    if (Number.isNaN(started) || Number.isNaN(scheduled)) throw new Error('run.started without valid times');
    // A run started early (negative) is a jittered or manual fire: it was not late.
    this.#metrics.lateness.observe(Math.max(0, started - scheduled) / 1000);
  }

  #finished(run: Run): void {
    const status = run.status as FinalStatus;
    if (!(status in this.#counts)) throw new Error(`run.finished with non-final status ${run.status}`);
    this.#counts[status]++;
    const job = this.#jobLabels.label(this.#names.get(run.jobId) ?? run.jobId);
    let byStatus = this.#pendingRuns.get(job);
    if (byStatus === undefined) this.#pendingRuns.set(job, (byStatus = new Map()));
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    if (status !== 'skipped' && typeof run.durationMs === 'number') {
      this.#durations.record(run.durationMs);
      this.#metrics.duration.observe({ job }, run.durationMs / 1000);
    }
  }

  #components(probes: MonitorProbes): Health {
    let components: Record<string, ComponentHealth>;
    try {
      components = probes.components();
    } catch (err) {
      const detail = `components probe failed: ${err instanceof Error ? err.message : String(err)}`;
      return { healthy: false, components: { monitor: { healthy: false, detail } } };
    }
    const copy: Record<string, ComponentHealth> = {};
    for (const [name, h] of Object.entries(components)) copy[name] = { ...h };
    return { healthy: Object.values(copy).every((h) => h.healthy), components: copy };
  }

  /** Restarts seen as events, or reported by the supervisor through the probe, whichever is higher. */
  #mergedRestarts(components: Record<string, ComponentHealth>): Record<string, number> {
    const out: Record<string, number> = Object.fromEntries(this.#restarts);
    for (const [name, h] of Object.entries(components)) {
      if (typeof h.restarts === 'number') out[name] = Math.max(out[name] ?? 0, h.restarts);
    }
    return out;
  }
}
