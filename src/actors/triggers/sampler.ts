/**
 * ONE sampler for every `--when` condition: one timer, and each distinct signal read once per tick
 * however many conditions use it. Its period adapts to the shortest `for DUR` among them.
 */
import type { Logger } from '../../api';
import type { Clock, TimerHandle } from '../../runtime/clock';
import type { Sample, SignalSource } from './signals';

/** Bounds of the sampler's period. */
export interface SamplePeriod {
  /** @default 1000 */
  minMs: number;
  /** The period while no condition has a `for DUR` short enough to need less. @default 5000 */
  maxMs: number;
}

/** Default bounds: 1 s .. 5 s. */
export const DEFAULT_SAMPLE_PERIOD: SamplePeriod = { minMs: 1000, maxMs: 5000 };

/** A window is watched with about this many samples: `for 10s` → every 1 s, `for 30s` → 3 s. */
export const SAMPLES_PER_WINDOW = 10;

/** Options of a {@link SharedSampler}. */
export interface SharedSamplerOptions {
  clock: Clock;
  source: SignalSource;
  period?: SamplePeriod;
  logger?: Logger;
  /** Called with each tick's sample and the clock's monotonic time of the tick. */
  onSample(sample: Sample, now: number): void;
}

/**
 * The period for a set of windows (`for DUR` in ms; 0 = no window): the shortest window divided by
 * {@link SAMPLES_PER_WINDOW}, within the bounds. Conditions without a window do not speed it up.
 */
export function periodFor(windowsMs: Iterable<number>, bounds: SamplePeriod = DEFAULT_SAMPLE_PERIOD): number {
  let shortest = Infinity;
  for (const w of windowsMs) if (w > 0 && w < shortest) shortest = w;
  return Math.min(bounds.maxMs, Math.max(bounds.minMs, Math.round(shortest / SAMPLES_PER_WINDOW)));
}

/** The sampler's state for `health`. */
export interface SamplerHealth {
  healthy: boolean;
  periodMs: number;
  /** Why it is unhealthy: the last read failed, or a read has not answered for several periods. */
  detail: string | null;
}

/** A read taking this many periods (at least 10 s) counts as hung. */
const HUNG_PERIODS = 3;

/**
 * Reads the signals asked for with {@link demand}, every {@link periodMs}, while any is asked for.
 *
 * @example
 * const sampler = new SharedSampler({ clock, source: new SystemSignals(), onSample: (s, now) => evaluate(s, now) });
 * sampler.demand(['cpu', 'disk:/var'], [600_000]);
 */
export class SharedSampler {
  readonly #clock: Clock;
  readonly #source: SignalSource;
  readonly #bounds: SamplePeriod;
  readonly #log: Logger | undefined;
  readonly #onSample: (sample: Sample, now: number) => void;
  #signals: readonly string[] = [];
  #period: number;
  #timer: TimerHandle | null = null;
  #dueAt = 0;
  #sampling = false;
  #stopped = false;
  #ticks = 0;
  /** Monotonic start of the read in progress, or null. */
  #readingSince: number | null = null;
  #lastError: string | null = null;

  constructor(opts: SharedSamplerOptions) {
    this.#clock = opts.clock;
    this.#source = opts.source;
    this.#bounds = opts.period ?? DEFAULT_SAMPLE_PERIOD;
    this.#log = opts.logger;
    this.#onSample = opts.onSample;
    this.#period = this.#bounds.maxMs;
  }

  /** Current period (ms). */
  get periodMs(): number {
    return this.#period;
  }

  /** The distinct signals read each tick. */
  get signals(): readonly string[] {
    return this.#signals;
  }

  /** Ticks so far (for tests and the bench). */
  get ticks(): number {
    return this.#ticks;
  }

  /**
   * Sets what to read (every registered condition's signals, duplicates allowed) and the windows
   * that set the period. No signals: no timer. A shorter period takes effect at once (the next
   * tick moves earlier); a longer one from the next tick.
   */
  demand(signals: Iterable<string>, windowsMs: Iterable<number>): void {
    this.#signals = [...new Set(signals)];
    this.#period = periodFor(windowsMs, this.#bounds);
    if (this.#signals.length === 0 || this.#stopped) {
      this.#disarm();
      return;
    }
    if (this.#timer !== null && this.#dueAt > this.#clock.monotonic() + this.#period) this.#disarm();
    this.#arm();
  }

  /** Clears the timer for good. */
  stop(): void {
    this.#stopped = true;
    this.#disarm();
  }

  /** Reads once now, outside the timer (the bench measures a tick with it). */
  async tick(): Promise<void> {
    if (this.#signals.length === 0) return;
    this.#ticks++;
    this.#readingSince = this.#clock.monotonic();
    try {
      const sample = await this.#source.read(this.#signals);
      this.#lastError = null;
      this.#onSample(sample, this.#clock.monotonic());
    } catch (err) {
      this.#lastError = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      this.#readingSince = null;
    }
  }

  /** Healthy unless the last read failed or the read in progress is hung. */
  health(): SamplerHealth {
    const periodMs = this.#period;
    if (this.#lastError !== null) return { healthy: false, periodMs, detail: `the last usage sample failed: ${this.#lastError}` };
    const hungMs = Math.max(10_000, HUNG_PERIODS * periodMs);
    const since = this.#readingSince;
    if (since !== null && this.#clock.monotonic() - since > hungMs) {
      return { healthy: false, periodMs, detail: `a usage sample has not answered for ${Math.round((this.#clock.monotonic() - since) / 1000)} s` };
    }
    return { healthy: true, periodMs, detail: null };
  }

  #arm(): void {
    if (this.#timer !== null || this.#sampling || this.#stopped) return;
    this.#dueAt = this.#clock.monotonic() + this.#period;
    this.#timer = this.#clock.setTimeout(() => void this.#fromTimer(), this.#period);
  }

  #disarm(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #fromTimer(): Promise<void> {
    this.#timer = null;
    if (this.#signals.length === 0 || this.#stopped) return;
    this.#sampling = true;
    try {
      await this.tick();
    } catch (err) {
      this.#log?.warn({ err }, 'usage sample failed');
    } finally {
      this.#sampling = false;
    }
    if (this.#signals.length > 0) this.#arm();
  }
}
