import type { Reading, Sample, SignalSource } from '../../src/actors/triggers/signals';

/**
 * A machine whose signals the test sets. `value` is the shorthand for cpu / memory / load; any
 * other signal is set in `readings`. Counts reads so tests can prove what is sampled and how often.
 */
export class FakeSignals implements SignalSource {
  value = { cpu: 50, memory: 50, load: 1 };
  readonly readings = new Map<string, Reading>();
  /** signal → why it is not available here. */
  readonly missing = new Map<string, string>();
  /** Number of read() calls. */
  samples = 0;
  /** Times each signal was read. */
  readonly readCounts = new Map<string, number>();
  failWith: (() => Error | null) | null = null;

  unavailable(signal: string): string | null {
    return this.missing.get(signal) ?? null;
  }

  read(signals: readonly string[]): Sample {
    this.samples++;
    const err = this.failWith?.();
    if (err) throw err;
    const out = new Map<string, Reading>();
    for (const s of signals) {
      this.readCounts.set(s, (this.readCounts.get(s) ?? 0) + 1);
      const r = s === 'cpu' ? { percent: this.value.cpu }
        : s === 'memory' ? { usedPercent: this.value.memory, freeBytes: 0, freePercent: 100 - this.value.memory }
          : s === 'load' ? { load1: this.value.load } : this.readings.get(s);
      if (r !== undefined) out.set(s, { ...r });
    }
    return out;
  }
}
