/**
 * The options of {@link createScheduler}: their schema, their defaults and the limits the facade
 * works with, the internal options tests and benches pass, and the placement of each actor.
 */
import path from 'node:path';
import { z } from 'zod';
import type { Logger, PlaceableActor, SchedulerOptions } from './api';
import { ValidationError } from './errors';
import { SystemClock, type Clock } from './runtime/clock';
import type { Placement } from './runtime/types';
import { parseOrThrow } from './model/zod-error';
import { HEALTH_DEFAULTS, type HealthSettings } from './actors/monitor/checks';
import type { Subscribe } from './actors/triggers/watch';

export const SILENT: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export const optionsSchema = z.object({
  dataDir: z.string().min(1),
  maxConcurrentJobs: z.number().int().min(1).max(1024).optional(),
  maxQueuedJobs: z.number().int().min(1).max(10_000_000).optional(),
  logger: z.any().optional(),
  clock: z.any().optional(),
  mode: z.enum(['active', 'offline']).optional(),
  historyPerJob: z.number().int().min(1).max(1_000_000).optional(),
  stepTimeoutMs: z.number().int().min(1).max(3_600_000).optional(),
  processMetrics: z.boolean().optional(),
  health: z.object({
    heartbeatEveryMs: z.number().int().min(10).max(3_600_000).optional(),
    heartbeatTimeoutMs: z.number().int().min(10).max(3_600_000).optional(),
    minFreeDiskBytes: z.number().int().min(0).optional(),
    maxEventLoopLagMs: z.number().min(1).optional(),
    deadManToleranceMs: z.number().int().min(0).optional(),
    runTimeoutGraceMs: z.number().int().min(0).optional(),
    sampleEveryMs: z.number().int().min(10).max(3_600_000).optional(),
  }).strict().optional(),
  placement: z.object({
    queue: z.enum(['main', 'thread']).optional(),
    executor: z.enum(['main', 'thread']).optional(),
    monitor: z.enum(['main', 'thread']).optional(),
    triggers: z.enum(['main', 'thread']).optional(),
  }).strict().optional(),
  watchSubscribe: z.function().optional(),
  watchSubscribeTimeoutMs: z.number().int().min(1).optional(),
  mailboxSize: z.number().int().min(1).optional(),
  hangAfterMs: z.number().int().min(1).optional(),
  shutdownSlackMs: z.number().int().min(1).optional(),
});

/** Longest `health`, `stats` and `metrics` wait for the monitor's mailbox (real time) before answering from its memory. */
export const MONITOR_DEADLINE_MS = 1000;

/** Longest the monitor's live values wait for a triggers thread's health (on the clock) before using its last facts. */
export const TRIGGERS_HEALTH_DEADLINE_MS = 1000;

/** Longest start-up (loading and arming every stored job) before createScheduler gives up. */
export const STARTUP_TIMEOUT_MS = 30 * 60_000;

/** Up to this many stored jobs, the monitor learns every job's name at start-up. */
export const NAMED_METRICS_LIMIT = 10_000;

/** Messages the persistence thread handles at once. */
export const PERSISTENCE_CONCURRENCY = 16;

/** Every actor's mailbox bound. */
export const MAILBOX_SIZE = 100_000;

/**
 * Most due timeline entries handed to the scheduler in one message. A burst of 10,000 fires is
 * popped in chunks of this size, one timer turn (a macrotask) apart, so the control API is served
 * between them (docs/runtime.md "Time slices").
 */
export const TIMER_BATCH = 1000;

/** How often old history is pruned. */
export const PRUNE_EVERY_MS = 3_600_000;

/** Environment variable: `threads` places queue, executor, monitor and triggers in threads by default. */
export const PLACEMENT_ENV = 'RAE_SCHED_PLACEMENT';

/** Where each placeable actor runs: the option, else RAE_SCHED_PLACEMENT, else the main thread. */
export function placementOf(option: SchedulerOptions['placement']): Record<PlaceableActor, Placement> {
  const env = process.env[PLACEMENT_ENV];
  if (env !== undefined && env !== '' && env !== 'threads' && env !== 'main') {
    throw new ValidationError(`${PLACEMENT_ENV} must be 'threads' or 'main', got '${env}'`, PLACEMENT_ENV);
  }
  const dflt: Placement = env === 'threads' ? 'thread' : 'main';
  return { queue: dflt, executor: dflt, monitor: dflt, triggers: dflt, ...option };
}

/** Longest a single shutdown step may take beyond the grace period (real time). */
export const SHUTDOWN_SLACK_MS = 30_000;
/** Asks of a shutdown step: their deadline is the step's (real time), not the actor clock's. */
export const NO_DEADLINE = { timeoutMs: Infinity };

/** @internal options for tests: a file-watch subscriber standing in for @parcel/watcher (e.g. one that hangs). */
export interface InternalOptions extends SchedulerOptions {
  watchSubscribe?: Subscribe;
  /** Real-time deadline of a native watch subscribe. @default 5000 */
  watchSubscribeTimeoutMs?: number;
  /**
   * Keep a spare booted worker per thread actor (persistence, parser), so a restart after its
   * thread died only runs the factory (docs/runtime.md "Standby worker"). The daemon sets it; off
   * by default: it costs two more threads booted at start, which a short-lived scheduler (an
   * offline CLI command, a test) would pay for nothing. @default false
   */
  standby?: boolean;
  /** Every actor's mailbox bound (tests: a tiny one). @default 100000 */
  mailboxSize?: number;
  /** Hang deadline of every actor's messages (tests: a short one). @default src/scheduler-tree.ts */
  hangAfterMs?: number;
  /** Deadline of each shutdown step beyond the grace period, real time (tests: a short one). @default 30000 */
  shutdownSlackMs?: number;
  /**
   * Bench A/B only (`node dist/bench/run-path-count.js --ab`, W1's "supervision off" row): false
   * turns off what supervision costs while messages flow — hang watchdogs, mailbox bounds, the
   * fault-injection check (ActorSystemOptions.perMessageSupervision) — and the heartbeats. Never
   * for production: a hung actor is never restarted, a mailbox grows without bound. @default true
   */
  perMessageSupervision?: boolean;
}

export type Filled = Required<Omit<SchedulerOptions, 'health' | 'placement'>> & { logger: Logger; clock: Clock; health: HealthSettings;
  placement: Record<PlaceableActor, Placement>;
  watchSubscribe: Subscribe | undefined; watchSubscribeTimeoutMs: number | undefined; standby: boolean;
  mailboxSize: number; hangAfterMs: number | undefined; shutdownSlackMs: number; perMessageSupervision: boolean };

/** Every option filled in: the defaults above, after the options were checked (parseOrThrow). */
export function fillOptions(options: SchedulerOptions): Filled {
  parseOrThrow(optionsSchema, options, 'options');
  return {
    dataDir: path.resolve(options.dataDir),
    maxConcurrentJobs: options.maxConcurrentJobs ?? 4,
    maxQueuedJobs: options.maxQueuedJobs ?? 10_000,
    logger: options.logger ?? SILENT,
    clock: options.clock ?? new SystemClock(),
    mode: options.mode ?? 'active',
    historyPerJob: options.historyPerJob ?? 1000,
    stepTimeoutMs: options.stepTimeoutMs ?? 30_000,
    processMetrics: options.processMetrics ?? false,
    health: { ...HEALTH_DEFAULTS, ...options.health },
    watchSubscribe: (options as InternalOptions).watchSubscribe,
    watchSubscribeTimeoutMs: (options as InternalOptions).watchSubscribeTimeoutMs,
    standby: (options as InternalOptions).standby === true,
    placement: placementOf(options.placement),
    mailboxSize: (options as InternalOptions).mailboxSize ?? MAILBOX_SIZE,
    hangAfterMs: (options as InternalOptions).hangAfterMs,
    shutdownSlackMs: (options as InternalOptions).shutdownSlackMs ?? SHUTDOWN_SLACK_MS,
    perMessageSupervision: (options as InternalOptions).perMessageSupervision !== false,
  };
}
