/**
 * Property-based: for random valid cron expressions and start instants, next fire times are strictly
 * increasing and each one matches the expression, checked by a matcher written here (not
 * cron-parser) on the wall clock Intl reports in the zone.
 */
import fc from 'fast-check';
import { ScheduleMath } from '../../src/actors/parser/schedule';
import { WallReader, transitions } from './oracle';

const MINUTE = 60_000;

const field = (min: number, max: number): fc.Arbitrary<string> => {
  const v = fc.integer({ min, max });
  const step = fc.integer({ min: 1, max: Math.max(1, Math.floor((max - min) / 2)) }).map((n) => `*/${n}`);
  const range = fc.tuple(v, v).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`);
  const rangeStep = fc.tuple(v, v, fc.integer({ min: 1, max: 5 })).map(([a, b, n]) => `${Math.min(a, b)}-${Math.max(a, b)}/${n}`);
  return fc.oneof(
    fc.constant('*'),
    step,
    v.map(String),
    range,
    rangeStep,
    fc.uniqueArray(v, { minLength: 2, maxLength: 4 }).map((xs) => xs.join(',')),
    // Lists whose parts may overlap (`0-6,1,10`, `*`/10,30-35`, `5,5`): every cron reads them as the union.
    fc.array(fc.oneof(v.map(String), range, rangeStep, step), { minLength: 2, maxLength: 4 }).map((xs) => xs.join(',')),
  );
};

const cronExpr = fc.record({
  seconds: fc.oneof(fc.constant(null), fc.constant('0'), field(0, 59)),
  minute: field(0, 59),
  hour: field(0, 23),
  // Days up to 28 exist in every month, so every generated expression fires.
  dom: fc.oneof(fc.constant('*'), fc.constant('*'), field(1, 28), fc.constant('L')),
  month: fc.oneof(fc.constant('*'), field(1, 12)),
  dow: fc.oneof(fc.constant('*'), fc.constant('*'), field(0, 6), field(0, 7),
    fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 4 })).map(([d, k]) => `${d}#${k}`),
    fc.integer({ min: 0, max: 6 }).map((d) => `${d}L`)),
}).map((f) => [f.seconds, f.minute, f.hour, f.dom, f.month, f.dow].filter((x) => x !== null).join(' '));

function expand(text: string, min: number, max: number): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [range, step] = part.split('/');
    const [a, b] = range === '*' ? [min, max] : range!.split('-').map(Number);
    const hi = b ?? (step === undefined ? a! : max);
    for (let x = a!; x <= hi; x += Number(step ?? 1)) out.add(x);
  }
  // Day-of-week 7 is Sunday, as 0 is.
  if (max === 7 && out.has(7)) out.add(0);
  return out;
}

/** An independent cron matcher on calendar fields (both day fields restricted: either matches). */
function matcher(expr: string): (w: Date) => boolean {
  const f = expr.split(' ');
  if (f.length === 5) f.unshift('0');
  const [sec, min, hour, mon] = [expand(f[0]!, 0, 59), expand(f[1]!, 0, 59), expand(f[2]!, 0, 23), expand(f[4]!, 1, 12)];
  const dom = f[3]!;
  const dow = f[5]!;
  const domSet = dom === 'L' ? null : expand(dom, 1, 31);
  const plainDow = /[#L]/.test(dow) ? null : expand(dow, 0, 7);
  // cron-parser's rule, which we document: only a bare `*` leaves a day field unrestricted (Vixie cron
  // also treats `*/n` so).
  const domRestricted = dom !== '*';
  const dowRestricted = dow !== '*';
  return (w) => {
    const day = w.getUTCDate();
    const last = new Date(Date.UTC(w.getUTCFullYear(), w.getUTCMonth() + 1, 0)).getUTCDate();
    const wd = w.getUTCDay();
    const domOk = domSet === null ? day === last : domSet.has(day);
    let dowOk: boolean;
    if (dow.includes('#')) {
      const [d, k] = dow.split('#').map(Number);
      dowOk = wd === d && Math.ceil(day / 7) === k;
    } else if (dow.endsWith('L')) {
      dowOk = wd === Number(dow.slice(0, -1)) && day + 7 > last;
    } else {
      dowOk = plainDow!.has(wd);
    }
    const dayOk = domRestricted && dowRestricted ? domOk || dowOk : domOk && dowOk;
    return dayOk && sec.has(w.getUTCSeconds()) && min.has(w.getUTCMinutes()) && hour.has(w.getUTCHours()) &&
      mon.has(w.getUTCMonth() + 1);
  };
}

function wallDate(t: number, fmt: Intl.DateTimeFormat): Date {
  const p: Record<string, number> = {};
  for (const x of fmt.formatToParts(t)) if (x.type !== 'literal') p[x.type] = Number(x.value);
  return new Date(Date.UTC(p.year!, p.month! - 1, p.day!, p.hour! % 24, p.minute!, p.second!));
}
const formatter = (zone: string) => new Intl.DateTimeFormat('en-GB', {
  timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit',
});

const start = fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2034, 0, 1) });
const math = new ScheduleMath();

describe('cron properties', () => {
  it.each(['UTC', 'Asia/Kolkata', 'Asia/Kathmandu'])('in %s (no DST) fires are increasing and each matches', (zone) => {
    const fmt = formatter(zone);
    fc.assert(fc.property(cronExpr, start, (expr, from) => {
      const s = math.parse(expr, { tz: zone, now: from });
      const matches = matcher(expr);
      const fires = math.slotsBetween(s, from, Number.MAX_SAFE_INTEGER, 6);
      expect(fires).toHaveLength(6);
      let prev = from;
      for (const t of fires) {
        expect(t).toBeGreaterThan(prev);
        expect({ expr, at: new Date(t).toISOString(), matches: matches(wallDate(t, fmt)) })
          .toEqual({ expr, at: new Date(t).toISOString(), matches: true });
        prev = t;
      }
    }), { numRuns: 150 });
  });

  it.each(['America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'America/Santiago'])(
    'in %s fires are increasing and each matches, or is a fixed-hour time moved out of a DST gap', (zone) => {
      const fmt = formatter(zone);
      // Half the starts fall in the two days before one of the zone's DST changes.
      const changes = transitions(new WallReader(zone), Date.UTC(2027, 0, 1), Date.UTC(2029, 0, 1));
      const nearChange = fc.constantFrom(...changes).chain((t) => fc.integer({ min: t - 2 * 86_400_000, max: t + MINUTE }));
      const offset = (t: number) => wallDate(t, fmt).getTime() - Math.floor(t / 1000) * 1000;
      fc.assert(fc.property(cronExpr, fc.oneof(start, nearChange), (expr, from) => {
        const s = math.parse(expr, { tz: zone, now: from });
        const matches = matcher(expr);
        // docs/schedules.md: the hour is a wildcard only when the field is exactly `*` or `*`/n.
        const hourFixed = s.kind === 'cron' && !/^[*?](\/\d+)?$/.test(s.expr.split(' ')[2]!);
        let prev = from;
        for (const t of math.slotsBetween(s, from, Number.MAX_SAFE_INTEGER, 6)) {
          expect(t).toBeGreaterThan(prev);
          const w = wallDate(t, fmt);
          const jump = offset(t) - offset(t - 180 * MINUTE);
          const moved = hourFixed && jump > 0 && matches(new Date(w.getTime() - jump));
          expect({ expr, at: new Date(t).toISOString(), ok: matches(w) || moved })
            .toEqual({ expr, at: new Date(t).toISOString(), ok: true });
          prev = t;
        }
      }), { numRuns: 200 });
    });
});
