/**
 * Usage sampling of a run's process group and the limit policy applied to the samples.
 */
import pidusage from 'pidusage';
import type { Limits } from '../../model/job';
import { groupMembers } from './process-group';
import { runTree } from './descendants';

/** Summed usage of every live process in the group at one instant. */
export interface UsageSample {
  /** Resident set size, bytes. */
  memoryBytes: number;
  /** CPU since the previous sample, percent of ONE core (two busy cores = 200). */
  cpuPercent: number;
}

/** A limit the run exceeded; `message` goes into the run's `error`. */
export interface LimitViolation {
  limit: 'maxMemoryBytes' | 'maxCpuPercent';
  message: string;
}

/** Consecutive samples over `maxCpuPercent` needed to kill: a single spike (startup, GC) is not a breach. */
export const CPU_SUSTAINED_SAMPLES = 3;

const MB = 1024 * 1024;
const fmtMb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

/**
 * The memory / CPU limit policy, fed one sample at a time. Memory is checked on every sample (a
 * process over its memory cap is killed at once); CPU must stay over its cap for
 * {@link CPU_SUSTAINED_SAMPLES} samples in a row.
 */
export class LimitPolicy {
  readonly #limits: Limits;
  #cpuStreak = 0;
  #peakMemory: number | null = null;

  constructor(limits: Limits) {
    this.#limits = limits;
  }

  /** Highest memory seen so far; `null` before the first sample. */
  get peakMemoryBytes(): number | null {
    return this.#peakMemory;
  }

  /** Records a sample; returns the limit it breaks, if any. */
  observe(sample: UsageSample): LimitViolation | null {
    this.#peakMemory = Math.max(this.#peakMemory ?? 0, sample.memoryBytes);
    const { maxMemoryBytes, maxCpuPercent } = this.#limits;
    if (maxMemoryBytes !== undefined && sample.memoryBytes > maxMemoryBytes) {
      return {
        limit: 'maxMemoryBytes',
        message: `exceeded the memory limit: ${fmtMb(sample.memoryBytes)} resident > maxMemoryBytes ${fmtMb(maxMemoryBytes)}`,
      };
    }
    if (maxCpuPercent !== undefined) {
      this.#cpuStreak = sample.cpuPercent > maxCpuPercent ? this.#cpuStreak + 1 : 0;
      if (this.#cpuStreak >= CPU_SUSTAINED_SAMPLES) {
        return {
          limit: 'maxCpuPercent',
          message:
            `exceeded the CPU limit: ${Math.round(sample.cpuPercent)}% > maxCpuPercent ${maxCpuPercent}% ` +
            `for ${this.#cpuStreak} samples in a row`,
        };
      }
    }
    return null;
  }
}

/**
 * Samples the whole process group (and escaped descendants, see the constructor) every `intervalMs` (falling back to the leader alone where /proc
 * cannot list the group) and hands each sample to `onSample`. Samples never overlap.
 */
export class UsageSampler {
  readonly #pgid: number;
  readonly #intervalMs: number;
  readonly #onSample: (s: UsageSample) => void;
  readonly #tree: { runId: string; sinceTicks: number } | null;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  /**
   * With `tree`, descendants that escaped the group but carry the run's marker count too
   * (src/workers/run/descendants.ts).
   */
  constructor(pgid: number, intervalMs: number, onSample: (s: UsageSample) => void, tree?: { runId: string; sinceTicks: number }) {
    this.#pgid = pgid;
    this.#intervalMs = intervalMs;
    this.#onSample = onSample;
    this.#tree = tree ?? null;
  }

  /** Takes a first sample right away (short jobs still get a peak), then one per interval. */
  start(): void {
    void this.#tick();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    try {
      const sample = await this.#sample();
      if (sample && !this.#stopped) this.#onSample(sample);
    } catch {
      // A process exiting mid-sample is normal; the next tick sees the new group.
    }
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#tick(), this.#intervalMs);
  }

  async #sample(): Promise<UsageSample | null> {
    const tree = this.#tree ? runTree(this.#pgid, this.#tree.runId, this.#tree.sinceTicks) : null;
    const pids = tree ? [...tree.group, ...tree.escaped] : (groupMembers(this.#pgid) ?? [this.#pgid]);
    if (pids.length === 0) return null;
    // pidusage keeps an open fd and CPU history per pid for `maxage`: keep it a few intervals so
    // CPU is measured between our samples, yet short so exited pids do not hold fds for a minute.
    const stats = await pidusage(pids, { maxage: Math.max(2000, this.#intervalMs * 4) });
    let memoryBytes = 0;
    let cpuPercent = 0;
    for (const pid of pids) {
      const s = stats[pid];
      if (!s) continue;
      memoryBytes += s.memory;
      cpuPercent += s.cpu;
    }
    return { memoryBytes, cpuPercent };
  }
}
