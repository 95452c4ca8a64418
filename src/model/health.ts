/** Health and statistics shapes: built by the monitor and the store's rollup, returned by the facade. */

/** Per-component health. */
export interface ComponentHealth {
  healthy: boolean;
  detail?: string;
  restarts?: number;
}

/** Result of `health()`. */
export interface Health {
  healthy: boolean;
  components: Record<string, ComponentHealth>;
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
  durationMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  queue: { depth: number; running: number; scheduled: number };
  restarts: Record<string, number>;
  uptimeMs: number;
}
