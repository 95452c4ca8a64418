/**
 * Health as a list of checks: each names a component and says, cheaply and without waiting on any
 * actor, whether it is healthy. Adding a check is adding an entry to the list (see
 * docs/operations.md for what each one means). Samples that cost I/O (free disk, store writable)
 * and the event-loop lag are taken in the background by {@link ProcessSampler}; checks read them.
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { ComponentHealth, Health, HealthOptions } from '../../api';

/** One health component. `run` returns null when the check does not apply (e.g. no watches). */
export interface HealthCheck {
  name: string;
  run(): ComponentHealth | null;
}

/** Runs every check; a throwing check is itself unhealthy (named), never an error of `health`. */
export function runChecks(checks: Iterable<HealthCheck>): Health {
  const components: Record<string, ComponentHealth> = {};
  for (const c of checks) {
    try {
      const h = c.run();
      if (h !== null) components[c.name] = h;
    } catch (err) {
      components[c.name] = { healthy: false, detail: `check failed: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  return { healthy: Object.values(components).every((h) => h.healthy), components };
}

/** Options of the checks (SchedulerOptions.health), filled. */
export type HealthSettings = Required<HealthOptions>;

/** Defaults of {@link HealthSettings}. */
export const HEALTH_DEFAULTS: HealthSettings = {
  heartbeatEveryMs: 5000,
  heartbeatTimeoutMs: 10_000,
  minFreeDiskBytes: 100 * 1024 * 1024,
  maxEventLoopLagMs: 1000,
  deadManToleranceMs: 60_000,
  runTimeoutGraceMs: 30_000,
  sampleEveryMs: 5000,
};

/** A process sample: free disk under the store, whether the store is writable, event-loop lag. */
export interface ProcessSample {
  freeBytes: number | null;
  writable: string | null;
  /** p99 of the event-loop delay over the last window, ms. */
  lagP99Ms: number | null;
  lagMaxMs: number | null;
}

/** Samples the process in the background (real-time, unref'd timer; never on a caller's path). */
export class ProcessSampler {
  readonly #dataDir: string;
  readonly #everyMs: number;
  readonly #loop: IntervalHistogram;
  #timer: NodeJS.Timeout | null = null;
  #busy = false;
  sample: ProcessSample = { freeBytes: null, writable: null, lagP99Ms: null, lagMaxMs: null };

  constructor(dataDir: string, everyMs: number) {
    this.#dataDir = dataDir;
    this.#everyMs = everyMs;
    this.#loop = monitorEventLoopDelay({ resolution: 20 });
  }

  start(): void {
    if (this.#timer !== null) return;
    this.#loop.enable();
    void this.take();
    this.#timer = setInterval(() => void this.take(), this.#everyMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#loop.disable();
  }

  /** Takes one sample now. */
  async take(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      let freeBytes: number | null = null;
      try {
        const st = await fs.statfs(this.#dataDir);
        freeBytes = st.bavail * st.bsize;
      } catch {
        freeBytes = null;
      }
      let writable: string | null = null;
      for (const p of [this.#dataDir, path.join(this.#dataDir, 'data.mdb')]) {
        try {
          await fs.access(p, constants.W_OK);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') writable = `${p} is not writable (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
        }
      }
      const lag = this.#loop.count > 0
        ? { lagP99Ms: this.#loop.percentile(99) / 1e6, lagMaxMs: this.#loop.max / 1e6 }
        : { lagP99Ms: null, lagMaxMs: null };
      this.#loop.reset();
      this.sample = { freeBytes, writable, ...lag };
    } finally {
      this.#busy = false;
    }
  }
}

function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(0)} MiB`;
}

/** `store`: commits succeed and the store's files are writable. */
export function storeCheck(fault: () => string | null, sample: () => ProcessSample): HealthCheck {
  return {
    name: 'store',
    run: () => {
      const f = fault();
      if (f !== null) return { healthy: false, detail: `commits are failing (fires are kept and retried): ${f}` };
      const w = sample().writable;
      return w === null ? { healthy: true } : { healthy: false, detail: w };
    },
  };
}

/** `disk`: free space on the store's file system above the floor. */
export function diskCheck(s: HealthSettings, sample: () => ProcessSample): HealthCheck {
  return {
    name: 'disk',
    run: () => {
      const free = sample().freeBytes;
      if (free === null) return { healthy: true, detail: 'free space not sampled yet' };
      const detail = `${mib(free)} free (floor ${mib(s.minFreeDiskBytes)})`;
      return { healthy: free >= s.minFreeDiskBytes, detail };
    },
  };
}

/** `eventLoop`: the main thread's event-loop delay (p99 over the last sample window) under the bound. */
export function eventLoopCheck(s: HealthSettings, sample: () => ProcessSample): HealthCheck {
  return {
    name: 'eventLoop',
    run: () => {
      const { lagP99Ms, lagMaxMs } = sample();
      if (lagP99Ms === null || lagMaxMs === null) return { healthy: true, detail: 'not sampled yet' };
      const detail = `lag p99 ${lagP99Ms.toFixed(1)} ms, max ${lagMaxMs.toFixed(1)} ms (bound ${s.maxEventLoopLagMs} ms)`;
      return { healthy: lagP99Ms <= s.maxEventLoopLagMs, detail };
    },
  };
}
