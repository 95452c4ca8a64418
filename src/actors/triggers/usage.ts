/**
 * Machine usage for `--when` conditions: CPU % busy, memory % used and the 1-minute load average.
 * A {@link UsageSource} is an interface so tests inject the values they need.
 */
import * as os from 'node:os';

/** One reading of the machine. */
export interface UsageSample {
  /** Percent of all cores' time spent busy since the previous sample, 0–100. */
  cpu: number;
  /** Percent of physical memory in use, 0–100. */
  memory: number;
  /** 1-minute load average (`os.loadavg()[0]`; always 0 on Windows). */
  load: number;
}

/** Where the trigger hub reads machine usage from. */
export interface UsageSource {
  sample(): UsageSample | Promise<UsageSample>;
}

interface CpuTimes {
  busy: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times;
    const all = t.user + t.nice + t.sys + t.idle + t.irq;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}

/**
 * Samples the real machine through `node:os`. CPU is the busy share of the time that passed between
 * two samples (cumulative counters from `os.cpus()`), so the first sample measures from construction.
 */
export class OsUsageSource implements UsageSource {
  #last: CpuTimes = cpuTimes();
  #lastCpu = 0;

  sample(): UsageSample {
    const now = cpuTimes();
    const dTotal = now.total - this.#last.total;
    // Counters tick at ~10 ms: two samples close together can show no progress; keep the last value.
    if (dTotal > 0) {
      this.#lastCpu = clampPercent(((now.busy - this.#last.busy) / dTotal) * 100);
      this.#last = now;
    }
    const total = os.totalmem();
    const memory = total > 0 ? clampPercent(((total - os.freemem()) / total) * 100) : 0;
    return { cpu: this.#lastCpu, memory, load: os.loadavg()[0] ?? 0 };
  }
}

function clampPercent(v: number): number {
  return Math.min(100, Math.max(0, v));
}
