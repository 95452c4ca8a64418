/**
 * The Prometheus metrics of one scheduler, on a PER-INSTANCE prom-client Registry: never the global
 * default registry, so two schedulers in one process (and parallel tests) do not collide or
 * double-count. Names and labels are listed in docs/metrics.md.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Upper bounds (seconds) of the run-duration histogram: sub-second scripts to hour-long jobs. */
export const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600];
/** Upper bounds (seconds) of the fire-lateness histogram: the timer's floor is ~1 ms (PITFALLS.md). */
export const LATENESS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60, 300];

/** @internal The metric objects, registered on `registry`. */
export class MonitorMetrics {
  readonly registry = new Registry();

  /**
   * @param processMetrics also register prom-client's default collectors (event-loop lag, heap, CPU,
   *   open handles...) — for the daemon, whose process is the scheduler's; not for an embedded or
   *   offline scheduler, whose process is someone else's.
   */
  constructor(processMetrics = false) {
    if (processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  readonly runs = new Counter({
    name: 'rae_runs_total', help: 'Runs that reached a final status, by job name and status.',
    labelNames: ['job', 'status'] as const, registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'rae_run_duration_seconds', help: 'Duration of finished runs, by job name.',
    labelNames: ['job'] as const, buckets: DURATION_BUCKETS, registers: [this.registry],
  });
  readonly lateness = new Histogram({
    name: 'rae_fire_lateness_seconds', help: 'How late runs started after their scheduled time (startedAt - scheduledAt).',
    buckets: LATENESS_BUCKETS, registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: 'rae_queue_depth', help: 'Runs waiting in the ready queue.', registers: [this.registry] });
  readonly running = new Gauge({ name: 'rae_running_runs', help: 'Runs executing now.', registers: [this.registry] });
  readonly scheduled = new Gauge({ name: 'rae_scheduled_jobs', help: 'Jobs with an upcoming fire on the timeline.', registers: [this.registry] });
  readonly restarts = new Counter({
    name: 'rae_actor_restarts_total', help: 'Actor restarts by the supervisor, by actor.',
    labelNames: ['actor'] as const, registers: [this.registry],
  });
  readonly slots = new Counter({
    name: 'rae_slots_total', help: 'Schedule slots recorded, by outcome (fired, skipped, missed, deduped, caught-up).',
    labelNames: ['outcome'] as const, registers: [this.registry],
  });
  readonly jobs = new Gauge({
    name: 'rae_jobs', help: 'Jobs in the store, by state (total, enabled, paused, done).',
    labelNames: ['state'] as const, registers: [this.registry],
  });
  readonly componentUp = new Gauge({
    name: 'rae_component_up', help: '1 when the component reports healthy, else 0.',
    labelNames: ['component'] as const, registers: [this.registry],
  });
  readonly clockJumps = new Counter({
    name: 'rae_clock_jumps_total', help: 'Wall-clock jumps detected (NTP step, suspend/resume, manual change).',
    registers: [this.registry],
  });
  readonly eventErrors = new Counter({
    name: 'rae_monitor_event_errors_total', help: 'Events the monitor could not interpret (skipped).',
    registers: [this.registry],
  });
  readonly eventsLost = new Counter({
    name: 'rae_monitor_events_lost_total', help: 'Events that never reached the monitor (its mailbox was full or restarting).',
    registers: [this.registry],
  });
  readonly uptime = new Gauge({ name: 'rae_uptime_seconds', help: 'Seconds since the monitor started.', registers: [this.registry] });
}
