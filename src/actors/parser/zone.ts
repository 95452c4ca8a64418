/**
 * Time zones: validation of IANA names and the wall-clock <-> instant mapping every schedule form
 * relies on. "Wall time" here is a zone's local date and time encoded as if it were UTC epoch ms
 * (so 2027-03-14 02:30 local is `Date.UTC(2027, 2, 14, 2, 30)`); an "instant" is real epoch ms.
 */
import { ValidationError } from '../../errors';

/** One day in ms. No real zone moves its offset twice within a day, which the probes below rely on. */
export const DAY_MS = 86_400_000;

/** The machine's IANA zone (honours `TZ`), or `UTC` when the runtime cannot tell. */
export function machineTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/**
 * Checks that `tz` is an IANA zone this runtime knows and returns its canonical spelling
 * (`utc` -> `UTC`, `europe/berlin` -> `Europe/Berlin`).
 * @throws ValidationError (field `timezone`) naming the zone when it is unknown.
 * @example validateTimeZone('Europe/Berlin') // 'Europe/Berlin'
 */
/*
 * Memo of zone names already validated: building an Intl.DateTimeFormat costs ~100 µs, and every
 * stored job's zone is checked again at start-up. Pure (a name's validity never changes while the
 * process runs) and bounded, so sharing it between schedulers cannot make them interfere.
 */
const VALID_ZONES = new Map<string, string>();

export function validateTimeZone(tz: string): string {
  if (typeof tz !== 'string' || tz.trim() === '') {
    throw new ValidationError('timezone: must be a non-empty IANA zone name such as Europe/Berlin', 'timezone');
  }
  const known = VALID_ZONES.get(tz);
  if (known !== undefined) return known;
  try {
    const name = new Intl.DateTimeFormat('en-US', { timeZone: tz.trim() }).resolvedOptions().timeZone;
    if (VALID_ZONES.size >= 1000) VALID_ZONES.clear();
    VALID_ZONES.set(tz, name);
    return name;
  } catch {
    throw new ValidationError(
      `timezone: unknown time zone '${tz}' (use an IANA name such as Europe/Berlin, America/New_York or UTC)`,
      'timezone',
    );
  }
}

/** Calendar fields of a wall time. */
export interface WallFields {
  year: number; month: number; day: number; hour: number; minute: number; second: number;
}

/** Splits a wall time (see module doc) into its calendar fields. */
export function wallFields(wall: number): WallFields {
  const d = new Date(wall);
  return {
    year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(),
    hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(),
  };
}

/** Names of UTC itself (the tz database's links to Etc/UTC), whose offset is 0 at every instant. */
const UTC_NAMES = new Set(['UTC', 'Etc/UTC', 'Etc/UCT', 'UCT', 'Etc/Universal', 'Universal', 'Etc/Zulu', 'Zulu']);

/**
 * Reads wall-clock time in one zone through `Intl.DateTimeFormat` (the runtime's tz database), and
 * maps wall times back to instants, exposing DST gaps and repeats instead of guessing.
 */
export class ZoneClock {
  readonly zone: string;
  readonly #fmt: Intl.DateTimeFormat;

  /** @param zone a zone already checked by {@link validateTimeZone}. */
  constructor(zone: string) {
    this.zone = zone;
    this.#fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short',
    });
    this.#utc = UTC_NAMES.has(this.#fmt.resolvedOptions().timeZone);
  }

  /** The zone is UTC itself (offset 0 at every instant): no Intl call per query. */
  readonly #utc: boolean;

  /** UTC offset in ms at `instant` (wall = instant + offset). */
  offsetAt(instant: number): number {
    // formatToParts costs ~2 µs and cron next-fire maths asks several times per answer.
    if (this.#utc) return 0;
    const whole = Math.floor(instant / 1000) * 1000;
    let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, bc = false;
    for (const p of this.#fmt.formatToParts(whole)) {
      switch (p.type) {
        case 'year': y = Number(p.value); break;
        case 'month': mo = Number(p.value); break;
        case 'day': d = Number(p.value); break;
        case 'hour': h = Number(p.value) % 24; break;
        case 'minute': mi = Number(p.value); break;
        case 'second': s = Number(p.value); break;
        case 'era': bc = /^B/i.test(p.value); break;
        default: break;
      }
    }
    const wall = new Date(0);
    wall.setUTCFullYear(bc ? 1 - y : y, mo - 1, d);
    wall.setUTCHours(h, mi, s, 0);
    return wall.getTime() - whole;
  }

  /** Wall time at `instant`. */
  wallAt(instant: number): number {
    return instant + this.offsetAt(instant);
  }

  /**
   * Every instant whose wall clock reads `wall`, ascending: none in a skipped (spring-forward) gap,
   * two in a repeated (fall-back) interval, one otherwise. `before`/`after` are the offsets in force
   * a day either side, which is what the DST rules need to shift a time out of a gap.
   */
  resolve(wall: number): { instants: number[]; before: number; after: number } {
    const before = this.offsetAt(wall - DAY_MS);
    const after = this.offsetAt(wall + DAY_MS);
    const instants: number[] = [];
    for (const off of before === after ? [before] : [before, after]) {
      const t = wall - off;
      if (this.offsetAt(t) === off) instants.push(t);
    }
    instants.sort((a, b) => a - b);
    return { instants, before, after };
  }

  /**
   * The instant a one-time wall time means: its first occurrence in a repeated interval; inside a
   * gap, the same distance past the gap's end (02:30 in a 02:00-03:00 gap -> 03:30), like cron.
   */
  toInstant(wall: number): number {
    const r = this.resolve(wall);
    return r.instants.length > 0 ? r.instants[0]! : wall - r.before;
  }

  /**
   * First whole second in (lo, hi] whose offset differs from the offset at `lo`, by bisection.
   * Callers know the offset at `hi` differs.
   */
  transitionIn(lo: number, hi: number): number {
    const base = this.offsetAt(lo);
    let a = Math.floor(lo / 1000);
    let b = Math.ceil(hi / 1000);
    while (b - a > 1) {
      const mid = Math.floor((a + b) / 2);
      if (this.offsetAt(mid * 1000) === base) a = mid;
      else b = mid;
    }
    return b * 1000;
  }
}
