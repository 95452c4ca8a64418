/**
 * The monitor actor: a {@link Monitor} behind a supervised mailbox. The scheduler never waits for
 * it: bus events are collected per turn and told to it in one `observe` message; `health`,
 * `stats` and `metrics` are asks to this mailbox (never the scheduler's), answered from the
 * monitor's counters and the probes' live values.
 *
 * Let it crash (spawned with `onUnexpectedError: 'crash'`): a restarted monitor is rebuilt from what
 * outlives it — `stats` reads run counts and durations from the store's rollup, restarts from the
 * supervisor, the queue and jobs from probes, uptime from the scheduler's start (`startedMono`);
 * job names are seeded again from the store. Only the Prometheus counters and histograms of THIS
 * process's events (runs, slots, lateness, restarts...) start again from zero, as after a process
 * restart: Prometheus' `rate`/`increase` treat the drop as a counter reset (docs/metrics.md).
 */
import type { Health, Stats } from '../../model';
import type { SchedulerEvent } from '../../model/events';
import { CRASH_HANDLER, STOP_HANDLER } from '../../runtime/types';
import { Monitor, type MonitorOptions } from './monitor';

/** What the monitor actor is started with (main thread: the probes are closures). */
export interface MonitorInit {
  options: MonitorOptions;
  /** Names to seed metric labels with, read at every (re)start. */
  names?(): Array<[string, string]>;
  /** The monitor of each new incarnation. */
  onMonitor?(m: Monitor): void;
}

/** The monitor actor's messages. */
export type MonitorHandlers = {
  observe(p: { events: SchedulerEvent[] }): void | Promise<void>;
  seedNames(p: { names: Array<[string, string]> }): void;
  health(p: Record<string, never>): Promise<Health>;
  stats(p: Record<string, never>): Promise<Stats>;
  metrics(p: Record<string, never>): Promise<string>;
  heartbeat(p: Record<string, never>): true;
  [STOP_HANDLER](): void;
  [CRASH_HANDLER](): void;
};

/** Builds an incarnation. */
export function createMonitorHandlers(init: MonitorInit): MonitorHandlers {
  const monitor = new Monitor(init.options);
  const names = init.names?.();
  if (names !== undefined) monitor.seedNames(names);
  init.onMonitor?.(monitor);
  return {
    observe: ({ events }) => monitor.observe(events),
    seedNames: ({ names: n }) => monitor.seedNames(n),
    health: () => monitor.health(),
    stats: () => monitor.stats(),
    metrics: () => monitor.metrics(),
    heartbeat: () => true,
    [STOP_HANDLER]: () => monitor.stop(),
    // A crashed incarnation follows nothing more (the next one is told the events from now on).
    [CRASH_HANDLER]: () => monitor.stop(),
  };
}
