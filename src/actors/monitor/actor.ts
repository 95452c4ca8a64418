/**
 * The monitor actor: a {@link Monitor} behind a supervised mailbox. The scheduler never waits for
 * it: bus events are collected per turn and told to it in one `observe` message; `health`,
 * `stats` and `metrics` are asks to this mailbox (never the scheduler's), answered from the
 * monitor's counters and the probes' live values. A restart starts from zero counters (Prometheus
 * handles counter resets; run statistics come from the store's rollup).
 */
import type { Health, Stats } from '../../model';
import type { SchedulerEvent } from '../../model/events';
import { STOP_HANDLER } from '../../runtime/types';
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
  };
}
