/**
 * The schedule language's public face: `parseSchedule` turns text into a validated {@link Schedule},
 * `nextFire` / `slotsBetween` compute fire times from it. Everything here is pure: the same inputs
 * always give the same outputs, on any thread.
 */
import { ValidationError } from '../../errors';
import { CompiledCron, looksLikeCron, normaliseCron } from './cron';
import { parsePhrase } from './english';
import { ZoneClock, machineTimeZone, validateTimeZone } from './zone';

export { machineTimeZone, validateTimeZone } from './zone';

/**
 * A validated schedule (structured-clonable). `source` is what the user wrote; `canonical` is text
 * that re-parses to this same schedule whatever `now` is — an absolute `at <ISO UTC>` for one-time
 * forms, the user's text otherwise. Store `canonical` so a restart never shifts a one-time job.
 */
export type Schedule =
  | { kind: 'cron'; expr: string; tz: string; source: string; canonical: string }
  | { kind: 'interval'; everyMs: number; source: string; canonical: string }
  | { kind: 'once'; at: number; source: string; canonical: string }
  | { kind: 'event'; event: 'reboot' | 'never'; source: string; canonical: string };

export { scheduleKey } from './schedule-key';

/** Options of {@link parseSchedule}. */
export interface ParseOptions {
  /** IANA zone for cron, calendar and local one-time forms; null/absent = the machine's zone. */
  tz?: string | null;
  /** Epoch ms that relative forms (`in 10 minutes`, `tomorrow at 8am`) count from. */
  now: number;
}

/** Compiled cron expressions and zone clocks are kept, most recently used last, up to this many each. */
const CACHE_SIZE = 256;

function remember<V>(cache: Map<string, V>, key: string, make: () => V): V {
  let v = cache.get(key);
  if (v !== undefined) {
    cache.delete(key);
  } else {
    v = make();
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  }
  cache.set(key, v);
  return v;
}

/**
 * Schedule maths with its own bounded caches of compiled cron expressions and zone clocks (both are
 * costly to build and needed on every fire). Create one per owner (e.g. per queue) when you want the
 * cache's lifetime tied to it; the free functions below share one default instance.
 */
export class ScheduleMath {
  readonly #crons = new Map<string, CompiledCron>();
  readonly #zones = new Map<string, ZoneClock>();
  /** Per zone and expression, the last cron answer: no fire in [from, next) (see #cronNext). */
  readonly #lastNext = new Map<string, { from: number; next: number }>();

  /** The clock of a zone already validated. */
  zone(tz: string): ZoneClock {
    return remember(this.#zones, tz, () => new ZoneClock(tz));
  }

  /** See {@link parseSchedule}. */
  parse(text: string, opts: ParseOptions): Schedule {
    if (typeof text !== 'string' || text.trim() === '') {
      throw new ValidationError('schedule: must be a non-empty string such as "*/5 * * * *" or "every 5 minutes"',
        'schedule');
    }
    if (!(Math.abs(opts.now) < 8.6e15)) throw new ValidationError('now: must be epoch milliseconds', 'now');
    const source = text;
    // A zone the caller names is checked whatever the form (a bad one is an error even on an
    // interval); the machine's zone is looked up only by a form that reads wall time: the first
    // Intl call of a process loads ICU's zone data (~15 ms), most of what an offline `rae-sched
    // list` of interval jobs would otherwise spend on parsing.
    const named = opts.tz === null || opts.tz === undefined ? null : validateTimeZone(opts.tz);
    const tz = (): string => named ?? machineTimeZone();
    const src = text.trim().replace(/\s+/g, ' ');
    const lower = src.toLowerCase();
    if (lower !== '@reboot' && looksLikeCron(src)) {
      const expr = normaliseCron(src);
      this.#cron(expr);
      return { kind: 'cron', expr, tz: tz(), source, canonical: source };
    }
    const p = parsePhrase(src, lower, () => this.zone(tz()), opts.now);
    switch (p.kind) {
      case 'cron':
        return { kind: 'cron', expr: p.expr, tz: tz(), source, canonical: source };
      case 'interval':
        return { kind: 'interval', everyMs: p.everyMs, source, canonical: source };
      case 'once':
        return { kind: 'once', at: p.at, source, canonical: `at ${new Date(p.at).toISOString()}` };
      case 'event':
        return { kind: 'event', event: p.event, source, canonical: source };
    }
  }

  /** See {@link nextFire}. */
  nextFire(s: Schedule, afterMs: number, anchorMs?: number): number | null {
    switch (s.kind) {
      case 'cron':
        return this.#cronNext(s.expr, s.tz, afterMs);
      case 'interval': {
        const anchor = anchorMs ?? afterMs;
        return anchor + (Math.floor((afterMs - anchor) / s.everyMs) + 1) * s.everyMs;
      }
      case 'once':
        return s.at > afterMs ? s.at : null;
      case 'event':
        return null;
    }
  }

  /** See {@link slotsBetween}. */
  slotsBetween(s: Schedule, fromExclusive: number, toInclusive: number, limit: number, anchorMs?: number): number[] {
    const out: number[] = [];
    const anchor = s.kind === 'interval' ? anchorMs ?? fromExclusive : anchorMs;
    let t = fromExclusive;
    while (out.length < limit) {
      const n = this.nextFire(s, t, anchor);
      if (n === null || n > toInclusive) break;
      out.push(n);
      t = n;
    }
    return out;
  }

  /**
   * Cron next fire through a memo of the last answer per expression and zone: `next(a) = n` means no
   * fire in (a, n), so every `after` in [a, n) has the same answer. Start-up arms thousands of jobs
   * sharing an expression from the same `now`, and a batch of due jobs asks after the same slot:
   * one computation (tens of µs, most of it cron-parser and Intl) serves them all.
   */
  #cronNext(expr: string, tz: string, after: number): number | null {
    const key = `${tz}\0${expr}`;
    const m = this.#lastNext.get(key);
    if (m !== undefined && after >= m.from && after < m.next) return m.next;
    const next = this.#cron(expr).next(this.zone(tz), after);
    if (next !== null) {
      if (m !== undefined) {
        m.from = after;
        m.next = next;
      } else {
        if (this.#lastNext.size >= CACHE_SIZE) this.#lastNext.delete(this.#lastNext.keys().next().value as string);
        this.#lastNext.set(key, { from: after, next });
      }
    }
    return next;
  }

  #cron(expr: string): CompiledCron {
    return remember(this.#crons, expr, () => new CompiledCron(expr));
  }
}

/*
 * The one module-level value in the parser, deliberately: a memo cache of pure computations. Its
 * contents never change a result (only how fast it comes), it is bounded, and sharing it between
 * schedulers in one process cannot make them interfere.
 */
const shared = new ScheduleMath();

/**
 * Parses and validates schedule text (every form in docs/schedules.md).
 * @throws ValidationError with field `schedule` (what is wrong with the text) or `timezone`.
 * @example parseSchedule('every weekday at 9am', { tz: 'Europe/Berlin', now: Date.now() })
 */
export function parseSchedule(text: string, opts: ParseOptions): Schedule {
  return shared.parse(text, opts);
}

/**
 * Next fire strictly after `afterMs`, or null when it never fires again. Intervals are anchored: they
 * fire at `anchorMs + k * everyMs` (anchor defaults to `afterMs`, i.e. one interval from now).
 */
export function nextFire(s: Schedule, afterMs: number, anchorMs?: number): number | null {
  return shared.nextFire(s, afterMs, anchorMs);
}

/**
 * All fire times in (fromExclusive, toInclusive], ascending, at most `limit` (for missed-run
 * catch-up). An interval without `anchorMs` is anchored at `fromExclusive`.
 */
export function slotsBetween(
  s: Schedule, fromExclusive: number, toInclusive: number, limit: number, anchorMs?: number,
): number[] {
  return shared.slotsBetween(s, fromExclusive, toInclusive, limit, anchorMs);
}

/** Options of {@link nextRuns}. */
export interface NextRunsOptions {
  /** IANA zone. @default the machine's zone */
  tz?: string;
  /** Count from this instant. @default now */
  from?: Date;
  /** How many fire times. @default 5 */
  count?: number;
}

/**
 * The next `count` fire times of a schedule (what `rae-sched next` prints). Pure: no scheduler needed.
 * @throws ValidationError for bad schedule text, zone or count.
 * @example nextRuns('every monday at 18:00', { tz: 'Europe/Berlin', count: 3 })
 */
export function nextRuns(schedule: string, opts: NextRunsOptions = {}): Date[] {
  const count = opts.count ?? 5;
  if (!Number.isInteger(count) || count < 1 || count > 10_000) {
    throw new ValidationError(`count: must be a whole number from 1 to 10000, got ${String(opts.count)}`, 'count');
  }
  const from = opts.from ?? new Date();
  if (!(from instanceof Date) || Number.isNaN(from.getTime())) {
    throw new ValidationError('from: must be a valid date', 'from');
  }
  const now = from.getTime();
  const s = parseSchedule(schedule, { tz: opts.tz ?? null, now });
  return shared.slotsBetween(s, now, Number.MAX_SAFE_INTEGER, count, now).map((t) => new Date(t));
}
