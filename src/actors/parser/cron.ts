/**
 * Cron expressions: validation with field-by-field messages, and next-fire computation in a zone.
 *
 * cron-parser does all the field matching (ranges, lists, steps, names, `L`, `#`), but only ever in
 * UTC, over *wall-clock* time: its own zone handling skips or misplaces fires around DST changes in
 * some zones (e.g. it never fires `15 2 * * *` on Australia/Lord_Howe's spring-forward day, and
 * throws "loop limit exceeded" for `0 * * * *` across Lord_Howe's 30-minute fall-back). We map each
 * matching wall time to instants ourselves with {@link ZoneClock}, applying the cronie/Vixie DST rule:
 * - hour field fixed (not `*` or `*`/n): fire once per wall-clock day — a repeated time only at its
 *   first occurrence, a skipped time the same distance past the gap's end (02:30 -> 03:30);
 * - hour field `*` or `*`/n: follow real time — fire in both occurrences of a repeated time, never
 *   for a skipped one.
 */
import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { ValidationError } from '../../errors';
import { DAY_MS, type ZoneClock } from './zone';

const FIELDS = [
  { name: 'second', min: 0, max: 59, names: '' },
  { name: 'minute', min: 0, max: 59, names: '' },
  { name: 'hour', min: 0, max: 23, names: '' },
  { name: 'day-of-month', min: 1, max: 31, names: ', L' },
  { name: 'month', min: 1, max: 12, names: ' or JAN–DEC' },
  { name: 'day-of-week', min: 0, max: 7, names: ' or SUN–SAT, L, #' },
] as const;

const MACROS: Record<string, string> = {
  '@yearly': '0 0 0 1 1 *', '@annually': '0 0 0 1 1 *', '@monthly': '0 0 0 1 * *',
  '@weekly': '0 0 0 * * 0', '@daily': '0 0 0 * * *', '@midnight': '0 0 0 * * *', '@hourly': '0 0 * * * *',
};

const NAME = /[a-z]{3}/gi;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** True when `text` should be read as cron (a macro, or starts like a cron field). */
export function looksLikeCron(text: string): boolean {
  return /^@/.test(text) || (/^[\d*?]/.test(text) && !/^\d{4}-\d{2}-\d{2}/.test(text));
}

function parseUtc(expr6: string): CronExpression {
  return CronExpressionParser.parse(cronParserForm(expr6), { tz: 'UTC', currentDate: new Date(0) });
}

/**
 * The expression as cron-parser accepts it, with the same fire times. cron-parser 5 refuses two
 * things every other cron (Vixie cron, croner, cron-parser 4, croniter) accepts:
 * - lists whose parts overlap (`0,7` in day-of-week — both Sunday —, `0-6,1,10`, `*`/10,30-35):
 *   the meaning is the union of the values, so a list field is rewritten as its sorted, deduplicated
 *   values (parts with `L`, `W`, `#` or `?` are kept as written);
 * - a lowercase `l` (`l`, `5l`): the syntax is case-insensitive, so every field is upper-cased.
 * Only fields holding a list are rewritten, and only with values all in range: anything else reaches
 * cron-parser unchanged, so its error (and our field message) stays what it was.
 */
export function cronParserForm(expr6: string): string {
  return expr6.split(' ').map((field, i) => {
    const up = field.toUpperCase();
    return up.includes(',') ? unionList(up, FIELDS[i]!, i) ?? up : up;
  }).join(' ');
}

/** A list field's values as one list without repeats, or null when a part is not plain numbers/names in range. */
function unionList(field: string, f: (typeof FIELDS)[number], i: number): string | null {
  const values = new Set<number>();
  const special: string[] = [];
  for (const part of field.split(',')) {
    if (/[LW#?]/.test(part.replace(NAME, ''))) {
      if (!special.includes(part)) special.push(part);
      continue;
    }
    const m = /^(\*|[0-9A-Z]+(?:-[0-9A-Z]+)?)(?:\/(\d+))?$/.exec(part);
    if (m === null) return null;
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (!(step >= 1)) return null;
    let lo: number;
    let hi: number;
    if (m[1] === '*') {
      [lo, hi] = [f.min, i === 5 ? 6 : f.max];
    } else {
      const [a, b] = m[1]!.split('-').map((v) => valueOf(v, i));
      if (a === undefined || Number.isNaN(a) || (b !== undefined && Number.isNaN(b))) return null;
      lo = a;
      hi = b ?? (m[2] === undefined ? a : f.max);
    }
    if (lo < f.min || hi > f.max || lo > hi) return null;
    // Day-of-week 7 is Sunday, as 0 is.
    for (let v = lo; v <= hi; v += step) values.add(i === 5 && v === 7 ? 0 : v);
  }
  const sorted = [...values].sort((a, b) => a - b).map(String);
  return [...sorted, ...special].join(',') || null;
}

/** A field value: a number, or a month / day name (NaN when neither). */
function valueOf(text: string, i: number): number {
  if (/^\d+$/.test(text)) return Number(text);
  const k = (i === 4 ? MONTHS : i === 5 ? DAYS : []).indexOf(text.toLowerCase());
  return k < 0 ? NaN : i === 4 ? k + 1 : k;
}

/** Why one field is wrong, or null when cron-parser accepts it on its own. */
function fieldProblem(fields: string[], i: number): string | null {
  const probe = ['0', '*', '*', '*', '*', '*'];
  probe[i] = fields[i]!;
  try {
    parseUtc(probe.join(' '));
    return null;
  } catch {
    const f = FIELDS[i]!;
    const numeric = fields[i]!.replace(NAME, (n) => {
      const k = (i === 4 ? MONTHS : DAYS).indexOf(n.toLowerCase());
      return k < 0 ? n : String(i === 4 ? k + 1 : k);
    });
    // Step sizes and `#` occurrence numbers are not field values: leave them out of the range check.
    const values = numeric.replace(/[/#]\d+/g, '').match(/\d+/g) ?? [];
    const outOfRange = values.some((v) => Number(v) < f.min || Number(v) > f.max);
    const range = `${f.min}–${f.max}${f.names}`;
    return outOfRange
      ? `${f.name} field '${fields[i]}' is out of range (${range})`
      : `${f.name} field '${fields[i]}' is not valid (expected ${range}, with *, ranges a-b, lists a,b and steps /n)`;
  }
}

/**
 * Checks a cron expression and returns it as 6 space-separated fields (seconds first); macros are
 * expanded. @throws ValidationError (field `schedule`) naming the wrong field and its range.
 */
export function normaliseCron(text: string): string {
  const src = text.trim().replace(/\s+/g, ' ');
  const where = `schedule: '${src}'`;
  if (src.startsWith('@')) {
    // hasOwn: user text must never reach Object.prototype ('__proto__', 'constructor').
    const key = src.toLowerCase();
    const m = Object.hasOwn(MACROS, key) ? MACROS[key] : undefined;
    if (!m) {
      throw new ValidationError(
        `${where} is not a known macro (use @yearly, @monthly, @weekly, @daily, @hourly, @reboot)`, 'schedule');
    }
    return m;
  }
  const fields = src.split(' ');
  if (fields.length !== 5 && fields.length !== 6) {
    throw new ValidationError(`${where} has ${fields.length} fields; cron needs 5 (minute hour day-of-month ` +
      'month day-of-week) or 6 (with seconds first)', 'schedule');
  }
  if (fields.length === 5) fields.unshift('0');
  const hashed = fields.findIndex((f) => /h/i.test(f.replace(NAME, '')));
  if (hashed >= 0) {
    throw new ValidationError(`${where} — ${FIELDS[hashed]!.name} field '${fields[hashed]}': the H (hash) form ` +
      'is not supported', 'schedule');
  }
  const expr = fields.join(' ');
  try {
    parseUtc(expr);
  } catch (err) {
    for (let i = 0; i < 6; i++) {
      const problem = fieldProblem(fields, i);
      if (problem) throw new ValidationError(`${where} — ${problem}`, 'schedule', { cause: err });
    }
    throw new ValidationError(`${where} never fires: no date matches its day-of-month, month and day-of-week ` +
      'together (e.g. 30 February)', 'schedule', { cause: err });
  }
  return expr;
}

/** Safety bound on wall times examined per call; only reached by pathological expressions. */
const MAX_STEPS = 200_000;

/**
 * A validated cron expression ready for next-fire queries in any zone. Holds a cron-parser iterator,
 * so one instance must not be shared by concurrent callers (JS is single-threaded: fine per thread).
 */
export class CompiledCron {
  readonly expr: string;
  /** Hour field is fixed: DST gaps shift, repeats fire once (see module doc). */
  readonly hourFixed: boolean;
  readonly #it: CronExpression;

  /** @param expr6 output of {@link normaliseCron}. */
  constructor(expr6: string) {
    this.expr = expr6;
    this.#it = parseUtc(expr6);
    this.hourFixed = !/^[*?](\/\d+)?$/.test(expr6.split(' ')[2]!);
  }

  /**
   * Next matching wall time strictly after `wall` (or, with `wall` null, after the previous answer:
   * cheaper, as cron-parser costs tens of µs per reset), or null when there is none.
   */
  #nextWall(wall: number | null): number | null {
    try {
      if (wall !== null) this.#it.reset(new Date(wall));
      return this.#it.next().getTime();
    } catch {
      return null;
    }
  }

  /** First fire instant strictly after `after` in `zone`, or null when the expression has no more. */
  next(zone: ZoneClock, after: number): number | null {
    // Within a year of the end of JS dates (±8.64e15 ms) Intl throws: there is no next fire there.
    if (!(Math.abs(after) < 8.6e15)) return null;
    const off = zone.offsetAt(after);
    let start = after + off;
    // A time skipped by a gap that ended within the last hour or two still fires, shifted past the gap:
    // look back to walls that were skipped (fixed hours only).
    if (this.hourFixed) {
      const prev = zone.offsetAt(after - DAY_MS);
      if (prev < off && zone.offsetAt(after - (off - prev)) !== off) start = after + prev;
    }
    // The current wall itself can only fire again in its second occurrence, which the fall-back branch
    // below handles: start strictly above it unless looking back into a gap.
    let best = this.#scan(zone, after, start === after + off ? start : start - 1, after + off);
    // Just before a fall-back, the repeated walls (below the current wall) come round again after the
    // transition: with a wildcard hour they fire a second time.
    if (!this.hourFixed) {
      const later = zone.offsetAt(after + DAY_MS);
      if (later < off && zone.offsetAt(after + (off - later)) !== off) {
        const t = zone.transitionIn(after, after + (off - later));
        const w = this.#nextWall(t + later - 1);
        if (w !== null && w < t + off) {
          const second = w - later;
          if (second > after && (best === null || second < best)) best = second;
        }
      }
    }
    return best;
  }

  /**
   * Walks matching walls upward from `fromWall` (exclusive) and returns the earliest allowed instant
   * after `after`. Stops once a wall above `afterWall` (the wall clock at `after`) is first reached, or
   * jumped over, no earlier than the best found: the clock, climbing from `afterWall`, must pass that
   * wall before it reaches any higher one.
   */
  #scan(zone: ZoneClock, after: number, fromWall: number, afterWall: number): number | null {
    let best = Infinity;
    for (let step = 0; step < MAX_STEPS; step++) {
      const wall = this.#nextWall(step === 0 ? fromWall : null);
      if (wall === null) break;
      const r = zone.resolve(wall);
      let bound = after;
      if (r.instants.length === 0) {
        if (this.hourFixed) {
          const shifted = wall - r.before;
          if (shifted > after && shifted < best) best = shifted;
        }
        if (wall > afterWall) bound = wall - r.after;
      } else {
        const allowed = this.hourFixed ? r.instants.slice(0, 1) : r.instants;
        for (const t of allowed) if (t > after && t < best) best = t;
        const firstAfter = r.instants.find((t) => t > after);
        // Only a wall above the current one is necessarily passed before any higher wall comes round.
        if (firstAfter !== undefined && wall > afterWall) bound = firstAfter;
      }
      if (bound >= best) break;
    }
    return best === Infinity ? null : best;
  }
}
