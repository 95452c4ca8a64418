/**
 * The triggers actor's state: every job's file watches and usage conditions. It only reports
 * "job X should fire because Y" through `onFire`; the scheduler applies the job's overlap policy.
 */
import type { Logger } from '../../model';
import type { TriggerSpec } from '../../model/job';
import type { Clock } from '../../runtime/clock';
import { ValidationError } from '../../errors';
import { type Condition, describeValue, holds, parseCondition, signalsOf } from './condition';
import { DEFAULT_SAMPLE_PERIOD, type SamplePeriod, type SamplerHealth, SharedSampler } from './sampler';
import type { Sample, SignalSource } from './signals';
import { SystemSignals } from './usage';
import { JobWatch, type Subscribe } from './watch';
import { backoffOptions, type BackoffOptions } from '../../runtime/backoff';
import { parcelSnapshots, WATCH_RETRY, type Snapshots } from './target-watch';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { RunEvent } from '../executor/types';

/** Options of a {@link TriggerHub}. */
export interface TriggerHubOptions {
  clock: Clock;
  logger?: Logger;
  /** Called when a job should fire; `reason` is one line for people (logs, `why`); `event`: what a watch saw. */
  onFire(jobId: string, reason: string, event?: RunEvent): void;
  /** Called after a watch died or came back (its {@link TriggerHub.health} changed). */
  onChange?(): void;
  /** Where conditions' signals are read. @default the real machine ({@link SystemSignals}) */
  signals?: SignalSource;
  /**
   * Bounds of the shared sampler's period, which adapts to the shortest `for DUR` (see `sampler.ts`).
   * @default { minMs: 1000, maxMs: 5000 }
   */
  samplePeriod?: SamplePeriod;
  /** @internal file-watch subscriber; @default @parcel/watcher */
  subscribe?: Subscribe;
  /**
   * Directory for the watches' snapshots: after a watch dies and is re-subscribed (or the hub
   * restarts), what changed since the last snapshot is delivered. @default none (no catch-up)
   */
  snapshotDir?: string;
  /** @internal snapshot calls; @default @parcel/watcher's (when `snapshotDir` is given) */
  snapshots?: Snapshots;
  /** Longest a native subscribe call may take before the watch counts as dead. @default 5000 */
  subscribeTimeoutMs?: number;
  /** Retry backoff of dead watches. @default {@link WATCH_RETRY} */
  retry?: Partial<BackoffOptions>;
  random?: () => number;
}

/** What the hub reports to `health`. */
export interface TriggerHealth {
  watches: number;
  conditions: number;
  /** Jobs whose watch is dead now (first {@link MAX_DEAD_LISTED}), with why. */
  dead: Array<{ jobId: string; detail: string }>;
  deadCount: number;
  /** The usage sampler: null when no condition is registered. */
  sampler: SamplerHealth | null;
}

/** Most dead watches listed by name in health (the count says how many). */
export const MAX_DEAD_LISTED = 10;

/** Least time between two fires of one condition when the trigger gives no `cooldownMs`. */
export const MIN_DEFAULT_COOLDOWN_MS = 60_000;

/** One `when` trigger and its edge-triggered state. */
interface ConditionState {
  cond: Condition;
  signals: string[];
  cooldownMs: number;
  /** Monotonic time of the first sample of the current unbroken run where it held, or null. */
  holdSince: number | null;
  /** False after a fire until a sample where it does not hold: one fire per period. */
  rearmed: boolean;
  lastFiredAt: number | null;
}

/**
 * Owns the `watch` and `when` triggers of every job. `after` triggers are the scheduler's own and
 * are ignored here.
 *
 * @example
 * const hub = new TriggerHub({ clock, onFire: (jobId, reason) => scheduler.tell('triggerFired', { jobId, reason }) });
 * await hub.set(job.id, job.triggers);
 */
export class TriggerHub {
  readonly #clock: Clock;
  readonly #log: Logger | undefined;
  readonly #onFire: (jobId: string, reason: string, event?: RunEvent) => void;
  readonly #source: SignalSource;
  readonly #sampler: SharedSampler;
  readonly #subscribe: Subscribe | undefined;
  readonly #watches = new Map<string, JobWatch>();
  /** Jobs whose watch is dead now (kept as it changes: health reads it without a scan). */
  readonly #dead = new Map<string, string>();
  readonly #o: TriggerHubOptions;
  readonly #retry: BackoffOptions;
  readonly #conditions = new Map<string, ConditionState[]>();
  #stopped = false;
  /** Its actor incarnation crashed ({@link abandon}): nothing it sees is reported any more. */
  #abandoned = false;
  /** set/remove/stop run one at a time, so a job's old watches are gone before its new ones report. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: TriggerHubOptions) {
    this.#o = opts;
    this.#retry = backoffOptions({ ...WATCH_RETRY, ...opts.retry });
    this.#clock = opts.clock;
    this.#log = opts.logger;
    this.#onFire = opts.onFire;
    this.#source = opts.signals ?? new SystemSignals();
    this.#sampler = new SharedSampler({
      clock: this.#clock, source: this.#source, period: opts.samplePeriod ?? DEFAULT_SAMPLE_PERIOD,
      onSample: (sample, now) => this.#evaluate(sample, now),
      ...(this.#log ? { logger: this.#log } : {}),
    });
    this.#subscribe = opts.subscribe;
    if (opts.snapshotDir !== undefined) mkdirSync(opts.snapshotDir, { recursive: true, mode: 0o700 });
  }

  /**
   * Replaces every trigger of the job (watch + when); an empty list removes them. On error nothing
   * changes: the job keeps its previous triggers.
   * @param strict true (a job being added): a path that cannot be watched is refused. false (a
   *   stored job at start-up, a resume, a hub restart): it is marked dead in health and retried,
   *   and what changed since its last snapshot (with `snapshotDir`) is delivered.
   * @throws ValidationError (field `when`) on a bad condition or one whose signal this machine
   *   cannot read ("not available here: ..."); (field `watch`, strict only) naming a path that
   *   cannot be watched.
   */
  set(jobId: string, triggers: TriggerSpec[], strict = true): Promise<void> {
    return this.#serial(() => this.#set(jobId, triggers, strict));
  }

  /** Removes every trigger of the job. */
  remove(jobId: string): Promise<void> {
    return this.#serial(() => this.#set(jobId, []));
  }

  /** Removes every job's triggers (a restore replaces all jobs); unlike {@link stop}, later `set` calls work. */
  clear(): Promise<void> {
    return this.#serial(async () => {
      this.#conditions.clear();
      this.#resample();
      const all = [...this.#watches.values()];
      this.#watches.clear();
      this.#dead.clear();
      await Promise.all(all.map((w) => w.close(true)));
    });
  }

  /** Watches, conditions, dead watches and the sampler's state: O(1) in the number of jobs. */
  health(): TriggerHealth {
    const { watches, conditions } = this.counts();
    const dead: Array<{ jobId: string; detail: string }> = [];
    for (const [jobId, detail] of this.#dead) {
      if (dead.length >= MAX_DEAD_LISTED) break;
      dead.push({ jobId, detail });
    }
    return { watches, conditions, dead, deadCount: this.#dead.size, sampler: conditions > 0 ? this.#sampler.health() : null };
  }

  /** Number of active watched paths and conditions (for health). */
  counts(): { watches: number; conditions: number } {
    let watches = 0;
    for (const w of this.#watches.values()) watches += w.size;
    let conditions = 0;
    for (const c of this.#conditions.values()) conditions += c.length;
    return { watches, conditions };
  }

  /** Unsubscribes every watcher and clears the sampling timer. Later `set` calls are ignored (no new watches). */
  stop(): Promise<void> {
    return this.#serial(async () => {
      this.#stopped = true;
      this.#conditions.clear();
      this.#sampler.stop();
      const all = [...this.#watches.values()];
      this.#watches.clear();
      await Promise.all(all.map((w) => w.close()));
    });
  }

  /**
   * Its actor incarnation crashed: from now on no fire is reported; the sampler's timer stops and
   * every watch is closed at once (not queued behind a `set` in progress, which may hang in a
   * native call). Snapshots are kept: the next hub catches up from them.
   */
  abandon(): void {
    this.#abandoned = true;
    this.#stopped = true;
    this.#conditions.clear();
    this.#sampler.stop();
    const all = [...this.#watches.values()];
    this.#watches.clear();
    this.#dead.clear();
    for (const w of all) void w.close().catch(() => undefined);
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(op, op);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #set(jobId: string, triggers: TriggerSpec[], strict = true): Promise<void> {
    if (this.#stopped && triggers.length > 0) return;
    // Validate everything before touching anything.
    const whens: ConditionState[] = [];
    const checked = new Set<string>();
    const old = this.#conditions.get(jobId) ?? [];
    for (const t of triggers) {
      if (t.type !== 'when') continue;
      const cond = parseCondition(t.condition);
      await this.#refuseUnavailable(cond, checked);
      const cooldownMs = t.cooldownMs ?? Math.max(cond.forMs, MIN_DEFAULT_COOLDOWN_MS);
      // The same condition set again (a resume, an update) keeps its progress and cooldown.
      const same = old.find((s) => s.cond.text === cond.text && s.cooldownMs === cooldownMs && !whens.includes(s));
      whens.push(same ?? { cond, signals: signalsOf(cond), cooldownMs, holdSince: null, rearmed: true, lastFiredAt: null });
    }
    const watchSpecs = triggers.filter((t): t is Extract<TriggerSpec, { type: 'watch' }> => t.type === 'watch');
    let watch: JobWatch | null = null;
    if (watchSpecs.length > 0) {
      const debounces = watchSpecs.map((t) => t.debounceMs).filter((d): d is number => d !== undefined);
      watch = new JobWatch({
        clock: this.#clock,
        logger: this.#log,
        paths: watchSpecs.flatMap((t) => t.paths),
        debounceMs: debounces.length > 0 ? Math.max(...debounces) : undefined,
        onFire: (reason, event) => this.#fire(jobId, reason, event),
        onState: (dead) => {
          if (this.#watches.get(jobId) !== watch) return;
          if (dead === null) this.#dead.delete(jobId);
          else this.#dead.set(jobId, dead);
          this.#o.onChange?.();
        },
        ...(this.#subscribe ? { subscribe: this.#subscribe } : {}),
        ...this.#snapshotsOf(jobId),
        subscribeTimeoutMs: this.#o.subscribeTimeoutMs,
        retry: this.#retry,
        ...(this.#o.random ? { random: this.#o.random } : {}),
      });
      // Dead-state reports during start count once the watch is the job's (below).
      await watch.start(strict, !strict);
      if (this.#abandoned) {
        await watch.close();
        return;
      }
    }

    const previous = this.#watches.get(jobId);
    if (watch) this.#watches.set(jobId, watch);
    else this.#watches.delete(jobId);
    const dead = watch?.dead ?? null;
    if (dead === null) this.#dead.delete(jobId);
    else this.#dead.set(jobId, dead);
    if (whens.length > 0) this.#conditions.set(jobId, whens);
    else this.#conditions.delete(jobId);
    this.#resample();
    await previous?.close(watch === null);
  }

  /** Each path's snapshot file: DIR/<hash of job and path>. */
  #snapshotsOf(jobId: string): { snapshots?: Snapshots | null; snapshotFile?: (i: number, base: string) => string } {
    const dir = this.#o.snapshotDir;
    if (dir === undefined) return {};
    return {
      snapshots: this.#o.snapshots ?? parcelSnapshots,
      snapshotFile: (_i, base) => path.join(dir, createHash('sha256').update(`${jobId}\0${base}`).digest('hex').slice(0, 32)),
    };
  }

  #fire(jobId: string, reason: string, event?: RunEvent): void {
    if (this.#abandoned) return;
    try {
      this.#onFire(jobId, reason, event);
    } catch (err) {
      // A failing listener must not stop the watches or the sampler.
      this.#log?.error({ err, jobId }, 'trigger onFire failed');
    }
  }

  // ---- usage conditions --------------------------------------------------------------------

  /** Refuses a condition reading a signal this machine cannot give (battery on a server...). */
  async #refuseUnavailable(cond: Condition, checked: Set<string>): Promise<void> {
    await refuseUnavailable(cond, this.#source, checked);
  }

  /** Tells the one sampler every condition's signals and windows. */
  #resample(): void {
    const signals: string[] = [];
    const windows: number[] = [];
    for (const states of this.#conditions.values()) {
      for (const s of states) {
        signals.push(...s.signals);
        windows.push(s.cond.forMs);
      }
    }
    this.#sampler.demand(signals, windows);
  }

  /** Current sampling period and the distinct signals read per tick (for health and tests). */
  sampling(): { periodMs: number; signals: readonly string[] } {
    return { periodMs: this.#sampler.periodMs, signals: this.#sampler.signals };
  }

  #evaluate(sample: Sample, now: number): void {
    for (const [jobId, states] of this.#conditions) {
      for (const s of states) {
        if (!holds(s.cond, sample)) {
          s.holdSince = null;
          s.rearmed = true;
          continue;
        }
        s.holdSince ??= now;
        const held = now - s.holdSince >= s.cond.forMs;
        const cooled = s.lastFiredAt === null || now - s.lastFiredAt >= s.cooldownMs;
        if (held && cooled && s.rearmed) {
          s.rearmed = false;
          s.lastFiredAt = now;
          this.#fire(jobId, `when: ${s.cond.text} (${describeValue(s.cond, sample)})`);
        }
      }
    }
  }
}

/**
 * Refuses (ValidationError, field `when`) a condition that reads a signal `source` cannot give — the
 * one check for the hub (active mode) and the CLI's offline `add`. `checked` skips signals seen before.
 */
export async function refuseUnavailable(cond: Condition, source: SignalSource, checked = new Set<string>()): Promise<void> {
  for (const signal of signalsOf(cond)) {
    if (checked.has(signal)) continue;
    const why = await source.unavailable(signal);
    if (why !== null) throw new ValidationError(`when: '${cond.text}' is not available here: ${why}`, 'when');
    checked.add(signal);
  }
}
