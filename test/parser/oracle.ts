/**
 * An independent DST oracle: walks real time minute by minute, reads the wall clock of a zone with its
 * own Intl.DateTimeFormat, and derives which minutes a simple `M H * * *` expression fires at under
 * the documented DST rule — no cron library, no offset arithmetic from the code under test.
 */

const MINUTE = 60_000;

/** Wall clock of one real minute. */
export interface Sample { instant: number; wall: number; hour: number; minute: number }

/** A minute/hour expression with day fields `*`: enough to exercise every DST case. */
export interface SimpleCron { minutes: Set<number>; hours: Set<number>; hourFixed: boolean; text: string }

function expand(field: string, max: number): Set<number> {
  const out = new Set<number>();
  for (const part of field.split(',')) {
    const [range, step] = part.split('/');
    const [a, b] = range === '*' ? [0, max] : range!.split('-').map(Number);
    const hi = b ?? (step === undefined ? a! : max);
    for (let v = a!; v <= hi; v += Number(step ?? 1)) out.add(v);
  }
  return out;
}

/** Parses `M H * * *` where M and H use numbers, `*`, lists, ranges and steps. */
export function simpleCron(text: string): SimpleCron {
  const [m, h] = text.split(' ');
  return { minutes: expand(m!, 59), hours: expand(h!, 23), hourFixed: !h!.startsWith('*'), text };
}

/** Reads wall clocks of a zone. */
export class WallReader {
  readonly #fmt: Intl.DateTimeFormat;
  constructor(zone: string) {
    this.#fmt = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit',
    });
  }
  /** Wall time at `instant`, minute precision, as UTC-encoded ms. */
  wall(instant: number): number {
    const p: Record<string, number> = {};
    for (const x of this.#fmt.formatToParts(instant)) if (x.type !== 'literal') p[x.type] = Number(x.value);
    return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour! % 24, p.minute!);
  }
  /** Offset in minutes at `instant`. */
  offsetMinutes(instant: number): number {
    const whole = Math.floor(instant / MINUTE) * MINUTE;
    return (this.wall(whole) - whole) / MINUTE;
  }
}

/** Instants (to the minute) in [from, to) where the zone's offset changes. */
export function transitions(reader: WallReader, from: number, to: number): number[] {
  const out: number[] = [];
  const DAY = 86_400_000;
  for (let t = from; t < to; t += DAY) {
    const a = reader.offsetMinutes(t);
    if (reader.offsetMinutes(t + DAY) === a) continue;
    let lo = t / MINUTE;
    let hi = (t + DAY) / MINUTE;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (reader.offsetMinutes(mid * MINUTE) === a) lo = mid;
      else hi = mid;
    }
    out.push(hi * MINUTE);
  }
  return out;
}

/** The walk: one sample per real minute in [from, to]. */
export function walk(reader: WallReader, from: number, to: number): Sample[] {
  const out: Sample[] = [];
  for (let t = from; t <= to; t += MINUTE) {
    const wall = reader.wall(t);
    const d = new Date(wall);
    out.push({ instant: t, wall, hour: d.getUTCHours(), minute: d.getUTCMinutes() });
  }
  return out;
}

/**
 * Fire instants in (first sample, last sample] by the rule: wildcard hour — every real minute whose
 * wall matches; fixed hour — a wall's first occurrence only, and a wall skipped by a gap fires the
 * same distance past the gap's end.
 */
export function oracleFires(samples: Sample[], c: SimpleCron): number[] {
  const fires = new Set<number>();
  const seen = new Set<number>();
  const matches = (wall: number): boolean => {
    const d = new Date(wall);
    return c.minutes.has(d.getUTCMinutes()) && c.hours.has(d.getUTCHours());
  };
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    if (i > 0) {
      const prev = samples[i - 1]!;
      const gapStart = prev.wall + MINUTE;
      if (c.hourFixed) {
        for (let w = gapStart; w < s.wall; w += MINUTE) if (matches(w)) fires.add(s.instant + (w - gapStart));
      }
      if (matches(s.wall) && (!c.hourFixed || !seen.has(s.wall))) fires.add(s.instant);
    }
    seen.add(s.wall);
  }
  const last = samples[samples.length - 1]!.instant;
  return [...fires].filter((t) => t <= last).sort((a, b) => a - b);
}
