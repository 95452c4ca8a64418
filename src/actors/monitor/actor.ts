/**
 * The monitor actor: a {@link Monitor} behind a supervised mailbox. The scheduler never waits for
 * it: bus events are collected per turn and told to it in one `observe` message; `health`,
 * `stats` and `metrics` are asks to this mailbox (never the scheduler's), answered from the
 * monitor's counters and the live values it asks its `probes` peer for (with a deadline) right
 * before answering — as queries ({@link MONITOR_QUERIES}): after every earlier `observe`, beside
 * each other.
 *
 * Let it crash (spawned with `onUnexpectedError: 'crash'`): a restarted monitor is rebuilt from what
 * outlives it — `stats` reads run counts and durations from the store's rollup, restarts from the
 * supervisor, the queue and jobs from probes, uptime from the scheduler's start (`startedAt`);
 * job names are seeded again from the store. Only the Prometheus counters and histograms of THIS
 * process's events (runs, slots, lateness, restarts...) start again from zero, as after a process
 * restart: Prometheus' `rate`/`increase` treat the drop as a counter reset (docs/metrics.md).
 *
 * Module logic: the same code runs on the main thread or in its own worker thread (placement);
 * its clock comes in `ctx`, the live values over the `probes` peer.
 */
import type { ComponentHealth, Health, Stats } from '../../model';
import type { SchedulerEvent } from '../../model/events';
import { CRASH_HANDLER, STOP_HANDLER, type ActorContext, type PeerRef } from '../../runtime/types';
import type { RunRollup } from '../persistence/rollup';
import { Monitor, type MonitorProbes } from './monitor';

/** What the monitor actor is started with (plain data: it may start in a worker thread). */
export interface MonitorInit {
  /** Also expose this process's own metrics. @default false */
  processMetrics?: boolean;
  /**
   * The scheduler's start (epoch ms on its clock): uptime counts from it, so it does not restart with
   * the monitor. Wall time, not monotonic, because a thread's monotonic clock has its own origin.
   * @default this incarnation's start
   */
  startedAt?: number;
}

/** Live values of the scheduler at one moment (what the monitor's answers show). */
export interface LiveValues {
  queue: { depth: number; running: number; scheduled: number };
  /** Each component's health, or why they could not be read. */
  components: Record<string, ComponentHealth> | { error: string };
  /** Only when asked for (`jobs: true`). */
  jobs?: { total: number; enabled: number; paused: number; done: number };
  rollup?: RunRollup;
  lostEvents: number;
}

/** The protocol of the monitor's `probes` peer (served on the main thread by the scheduler). */
export type MonitorProbeHandlers = {
  /** `jobs`: also the job counts and the store's rollup (stats, metrics). */
  live(p: { jobs: boolean }): LiveValues | Promise<LiveValues>;
  /** Job names to seed metric labels with. */
  names(p: Record<string, never>): Array<[string, string]>;
};

/** The monitor's peers. */
export interface MonitorPeers {
  probes: PeerRef<MonitorProbeHandlers>;
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

/** The answers of one incarnation, callable without its mailbox (main placement's late path). */
export type MonitorAnswers = Pick<MonitorHandlers, 'health' | 'stats' | 'metrics'>;

/** Longest wait for the probes' live values (real time is the caller's business: this is the clock's). */
const PROBE_TIMEOUT_MS = 10_000;

const NO_JOBS = { total: 0, enabled: 0, paused: 0, done: 0 };

/**
 * The monitor's queries (SpawnCommon.queries): each is answered as soon as every message the
 * monitor received before it — every `observe` the scheduler sent before the question — has been
 * taken in, so the answer counts every event published before it was asked (happens-before); and
 * beside each other and beside later `observe`s, so an answer that waits for its probe round trip
 * (through the main thread, loaded when the scheduler is) holds back neither the other answers nor
 * the events. `heartbeat` is not a query: it answers in the mailbox's order, so an `observe` running
 * late shows as a late heartbeat.
 */
export const MONITOR_QUERIES = ['health', 'stats', 'metrics'] as const satisfies ReadonlyArray<keyof MonitorHandlers>;

/** The monitor's view of one set of live values. */
function probesOf(live: LiveValues): MonitorProbes {
  return {
    queue: () => live.queue,
    components: () => {
      if ('error' in live.components && typeof live.components.error === 'string') throw new Error(live.components.error);
      return live.components as Record<string, ComponentHealth>;
    },
    jobs: async () => live.jobs ?? NO_JOBS,
    // Undefined (no store yet): the monitor counts the runs it saw itself.
    rollup: () => live.rollup as RunRollup,
    lostEvents: () => live.lostEvents,
  };
}

/** Builds an incarnation; `onAnswers` (main thread only) gets its answers for the late path. */
export async function buildMonitor(init: MonitorInit, ctx: ActorContext<MonitorPeers>, onAnswers?: (a: MonitorAnswers) => void): Promise<MonitorHandlers> {
  const { probes } = ctx.peers;
  const monitor = new Monitor({
    clock: ctx.clock, processMetrics: init.processMetrics === true,
    startedMono: init.startedAt === undefined ? undefined : ctx.clock.monotonic() - Math.max(0, ctx.clock.now() - init.startedAt),
    probes: probesOf({ queue: { depth: 0, running: 0, scheduled: 0 }, components: {}, lostEvents: 0 }),
  });
  monitor.seedNames(await probes.ask('names', {}, { timeoutMs: PROBE_TIMEOUT_MS }));
  // Each answer reads its own live values (answers run side by side: none sees another's).
  const fresh = async (jobs: boolean): Promise<MonitorProbes> => probesOf(await probes.ask('live', { jobs }, { timeoutMs: PROBE_TIMEOUT_MS }));
  const answers: MonitorAnswers = {
    health: async () => monitor.health(await fresh(false)),
    stats: async () => monitor.stats(await fresh(true)),
    metrics: async () => monitor.metrics(await fresh(true)),
  };
  onAnswers?.(answers);
  return {
    observe: ({ events }) => monitor.observe(events),
    seedNames: ({ names: n }) => monitor.seedNames(n),
    ...answers,
    heartbeat: () => true,
    [STOP_HANDLER]: () => monitor.stop(),
    // A crashed incarnation follows nothing more (the next one is told the events from now on).
    [CRASH_HANDLER]: () => monitor.stop(),
  };
}

/** Builds an incarnation (the module logic, for either placement). */
export function createMonitorHandlers(init: MonitorInit, ctx: ActorContext<MonitorPeers>): Promise<MonitorHandlers> {
  return buildMonitor(init, ctx);
}
