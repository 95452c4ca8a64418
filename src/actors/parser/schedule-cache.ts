/**
 * The one cache of stored schedules parsed in-process, shared by the scheduler's job desk and the
 * read view. Stored text was validated by the parser thread at add and is canonical (one-time forms
 * are absolute), so parsing it again at any `now` gives the same schedule: one parse per distinct
 * (zone, text) serves every job that shares it.
 *
 * The schedule maths (schedule.ts: the cron library and the time-zone data behind it) is loaded on
 * first use, not when this module loads: a short-lived CLI process costs 100+ ms to load it, and a
 * `list` whose jobs have their next slot stored needs none. Only types are imported from it here.
 */
import { LRUCache } from 'lru-cache';
import type { Schedule, ScheduleMath } from './schedule';
import { scheduleKey } from './schedule-key';

/** What a cache entry is keyed on (and, for the report of a stored schedule that no longer parses, the job). */
export type StoredSchedule = { id: string; schedule: string; timezone: string | null };

/** How a {@link ScheduleCache} is set up. */
export interface ScheduleCacheOptions {
  /** Distinct (zone, text) pairs kept at once. */
  max: number;
  /** The instant a re-parse is done at (it does not change the result of canonical text). */
  now(): number;
  /**
   * Told once per cached key whose stored text no longer parses (the key is then remembered as
   * invalid, so the failure is neither re-parsed nor re-reported while it stays cached).
   */
  onInvalid(job: StoredSchedule, err: unknown): void;
}

/** Parsed stored schedules by zone and text, with the schedule maths loaded on first need. */
export class ScheduleCache {
  readonly #o: ScheduleCacheOptions;
  readonly #parsed: LRUCache<string, Schedule | 'invalid'>;
  #mathOnce: ScheduleMath | null = null;

  constructor(opts: ScheduleCacheOptions) {
    this.#o = opts;
    this.#parsed = new LRUCache<string, Schedule | 'invalid'>({ max: opts.max });
  }

  /** A stored job's parsed schedule, or undefined if its text no longer parses. */
  get(job: StoredSchedule): Schedule | undefined {
    const key = scheduleKey(job);
    let s = this.#parsed.get(key);
    if (s === undefined) {
      try {
        s = this.math.parse(job.schedule, { tz: job.timezone, now: this.#o.now() });
      } catch (err) {
        this.#o.onInvalid(job, err);
        s = 'invalid';
      }
      this.#parsed.set(key, s);
    }
    return s === 'invalid' ? undefined : s;
  }

  /** Keeps a schedule parsed elsewhere (the parser thread's answer at add) for its text and zone. */
  set(job: { schedule: string; timezone: string | null }, schedule: Schedule): void {
    this.#parsed.set(scheduleKey(job), schedule);
  }

  /** The in-process schedule maths (with its own next-fire caches), loaded on first use. */
  get math(): ScheduleMath {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.#mathOnce ??= new (require('./schedule') as typeof import('./schedule')).ScheduleMath();
    return this.#mathOnce;
  }
}
