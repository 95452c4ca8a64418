/**
 * ONE sampler for every `--when` condition: one timer, and each distinct signal read once per tick
 * however many conditions use it. Its period adapts to the shortest `for DUR` among them.
 */
import type { Logger } from '../../model';
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
    const sample = await this.#source.read(this.#signals);
    this.#onSample(sample, this.#clock.monotonic());
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
