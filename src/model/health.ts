/** Health and statistics shapes: built by the monitor and the store's rollup, returned by the facade. */

/** Per-component health. */
export interface ComponentHealth {
  healthy: boolean;
  /**
   * Works, but something needs a person's attention (e.g. a job's `--after` upstream no longer
   * exists). Does not make the component, or the whole, unhealthy.
   */
  degraded?: boolean;
  detail?: string;
  restarts?: number;
}

/** Result of `health()`. */
export interface Health {
  healthy: boolean;
  components: Record<string, ComponentHealth>;
}

/** Run-duration percentiles (ms), null when no duration is known. */
export interface DurationPercentiles {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** Result of `stats()`. */
export interface Stats {
  jobs: { total: number; enabled: number; paused: number; done: number };
  runs: {
    total: number;
    succeeded: number;
    failed: number;
    timeout: number;
    killed: number;
    interrupted: number;
    skipped: number;
    successRate: number | null;
  };
  durationMs: DurationPercentiles;
  queue: { depth: number; running: number; scheduled: number };
  restarts: Record<string, number>;
  uptimeMs: number;
}

/** Thresholds of the health checks. Heartbeats and samples run in real time. */
export interface HealthOptions {
  /** How often every actor is sent a heartbeat. @default 5000 */
  heartbeatEveryMs?: number;
  /** An actor that has not answered its heartbeat within this is unhealthy. @default 10000 */
  heartbeatTimeoutMs?: number;
  /** Free space on the store's file system below this is unhealthy. @default 104857600 (100 MiB) */
  minFreeDiskBytes?: number;
  /** Event-loop delay (p99 over a sample window) above this is unhealthy. @default 1000 */
  maxEventLoopLagMs?: number;
  /** A fire this much past its time with no recorded outcome trips the dead-man's switch. @default 60000 */
  deadManToleranceMs?: number;
  /** A run this much past its timeout (the executor should have ended it) is unhealthy. @default 30000 */
  runTimeoutGraceMs?: number;
  /** How often free disk, store writability and event-loop lag are sampled. @default 5000 */
  sampleEveryMs?: number;
}
