/**
 * The plain-English and date forms of the schedule language: intervals (`every 30s`), calendar
 * phrases (`every weekday at 9am`, turned into cron), one-time dates (`at 2027-01-01T09:00`,
 * `in 10 minutes`, `tomorrow at 8am`) and the event-only words (`@reboot`, `never`).
 */
import { ValidationError } from '../../errors';
import { parseDuration } from '../../model/duration';
import { type ZoneClock, wallFields } from './zone';

/** What a phrase means before the caller adds `source`, `canonical` and the zone. */
export type Phrase =
  | { kind: 'cron'; expr: string }
  | { kind: 'interval'; everyMs: number }
  | { kind: 'once'; at: number; relative: boolean }
  | { kind: 'event'; event: 'reboot' | 'never' };

/** The accepted forms, quoted in the error for text nothing recognises. */
export const ACCEPTED_FORMS = "cron ('*/5 * * * *', '0 30 9 * * MON-FRI', '@daily'), an interval ('every 30s', " +
  "'every 5 minutes'), calendar ('every day at 09:30', 'every mon,wed,fri at 7:15', 'daily at 6pm', 'hourly', " +
  "'weekly', 'monthly'), one-time ('at 2027-01-01T09:00', '2027-01-01T09:00:00Z', 'in 10 minutes', " +
  "'tomorrow at 8am') or event-only ('@reboot', 'never')";

const DAY_NAMES: Record<string, number> = {
  sun: 0, sunday: 0, mon: 1, monday: 1, tue: 2, tues: 2, tuesday: 2, wed: 3, weds: 3, wednesday: 3,
  thu: 4, thur: 4, thurs: 4, thursday: 4, fri: 5, friday: 5, sat: 6, saturday: 6,
};

/** Day number of a name; own keys only, so user text never reaches Object.prototype. */
function dayNumber(name: string): number | undefined {
  return Object.hasOwn(DAY_NAMES, name) ? DAY_NAMES[name] : undefined;
}

const MINUTE_MS = 60_000;
const MIN_INTERVAL_MS = 1000;

function fail(src: string, what: string): never {
  throw new ValidationError(`schedule: '${src}' — ${what}`, 'schedule');
}

/** `09:30`, `9:30:15`, `6pm`, `7:15am`, `noon`, `midnight` -> [hour, minute, second]. */
function parseTimeOfDay(src: string, text: string): [number, number, number] {
  const t = text.trim();
  if (t === 'noon') return [12, 0, 0];
  if (t === 'midnight') return [0, 0, 0];
  const m = /^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*(am|pm)?$/.exec(t);
  if (m && (m[2] !== undefined || m[4] !== undefined)) {
    let h = Number(m[1]);
    const mi = Number(m[2] ?? 0);
    const s = Number(m[3] ?? 0);
    const ampm = m[4];
    const hourOk = ampm ? h >= 1 && h <= 12 : h <= 23;
    if (hourOk && mi <= 59 && s <= 59) {
      if (ampm) h = (h % 12) + (ampm === 'pm' ? 12 : 0);
      return [h, mi, s];
    }
  }
  return fail(src, `'${text}' is not a time of day (use 09:30, 18:00, 6pm or 7:15am)`);
}

/** `mon,wed,fri`, `monday and friday`, `weekday(s)`, `weekend(s)`, `mon-fri`, `day` -> cron day-of-week. */
function parseDays(src: string, text: string): string {
  const t = text.trim().replace(/\s+and\s+/g, ',').replace(/\s*,\s*/g, ',');
  if (t === 'day') return '*';
  const out = new Set<number>();
  for (const part of t.split(',')) {
    const p = part.replace(/s$/, '');
    if (p === 'weekday') [1, 2, 3, 4, 5].forEach((d) => out.add(d));
    else if (p === 'weekend' || p === 'weekend day') [0, 6].forEach((d) => out.add(d));
    else if (/^[a-z]+-[a-z]+$/.test(p)) {
      const [a, b] = p.split('-').map((x) => dayNumber(x!));
      if (a === undefined || b === undefined) fail(src, `'${part}' is not a range of days (e.g. mon-fri)`);
      for (let d = a; ; d = (d + 1) % 7) { out.add(d); if (d === b) break; }
    } else {
      const d = dayNumber(p) ?? dayNumber(part);
      if (d === undefined) {
        fail(src, `'${part}' is not a day (use day, weekday, weekend, monday…sunday or mon…sun, lists with commas)`);
      }
      out.add(d);
    }
  }
  return [...out].sort((x, y) => x - y).join(',');
}

function parseInterval(src: string, amount: string): Phrase {
  let ms: number;
  try {
    ms = parseDuration(amount, 'schedule');
  } catch {
    return fail(src, `'${amount}' is not an interval (use e.g. every 30s, every 30 seconds, every 5 minutes, ` +
      'every 2 hours, every 3 days)');
  }
  if (ms < MIN_INTERVAL_MS) fail(src, 'an interval must be at least 1 second');
  return { kind: 'interval', everyMs: ms };
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[t ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?\s*(z|[+-]\d{2}(?::?\d{2})?)?$/;

/** An ISO-8601 date or date-time; without an offset it is wall time in `zone`. Null when not ISO. */
function parseIso(src: string, text: string, zone: () => ZoneClock): number | null {
  const m = ISO.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as number[];
  const fraction = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  const wall = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, fraction);
  const f = wallFields(wall);
  if (f.month !== mo || f.day !== d || h! > 23 || mi! > 59 || s! > 59) {
    fail(src, `'${text}' is not a valid date and time`);
  }
  const off = m[8];
  if (off === undefined) return zone().toInstant(wall);
  if (off === 'z') return wall;
  const om = /^([+-])(\d{2}):?(\d{2})?$/.exec(off)!;
  const offMs = (Number(om[2]) * 60 + Number(om[3] ?? 0)) * MINUTE_MS * (om[1] === '-' ? -1 : 1);
  if (Math.abs(offMs) > 18 * 60 * MINUTE_MS) fail(src, `'${off}' is not a UTC offset`);
  return wall - offMs;
}

function dayWall(zone: () => ZoneClock, now: number, plusDays: number, hms: [number, number, number]): number {
  const clock = zone();
  const today = wallFields(clock.wallAt(now));
  return clock.toInstant(Date.UTC(today.year, today.month - 1, today.day + plusDays, ...hms));
}

/**
 * The event-only form a schedule text is (`@reboot`, `never`), or null: what `parseSchedule` gives
 * `kind: 'event'` for, told without parsing (a read showing a job's state needs only this).
 */
export function eventWordOf(text: string): 'reboot' | 'never' | null {
  const t = text.trim().replace(/\s+/g, ' ').toLowerCase();
  return t === '@reboot' ? 'reboot' : t === 'never' ? 'never' : null;
}

/**
 * Reads every non-cron form. `text` is trimmed, lower-cased and single-spaced; `src` is what the
 * user wrote, for messages. `zone` gives the zone's clock, asked for only by the forms that read
 * wall time (an interval or an event never builds one: see ScheduleMath.parse).
 * @throws ValidationError (field `schedule`).
 */
export function parsePhrase(src: string, text: string, zone: () => ZoneClock, now: number): Phrase {
  const event = eventWordOf(text);
  if (event !== null) return { kind: 'event', event };
  const calendar: Record<string, string> = {
    hourly: '0 0 * * * *', daily: '0 0 0 * * *', weekly: '0 0 0 * * 0', monthly: '0 0 0 1 * *',
    'every minute': '0 * * * * *', 'every hour': '0 0 * * * *', 'every day': '0 0 0 * * *',
    'every week': '0 0 0 * * 0', 'every month': '0 0 0 1 * *', 'every second': '* * * * * *',
  };
  if (Object.hasOwn(calendar, text)) return { kind: 'cron', expr: calendar[text]! };

  let m = /^(?:every (.+?)|daily) at (.+)$/.exec(text);
  if (m) {
    const dow = m[1] === undefined ? '*' : parseDays(src, m[1]);
    const [h, mi, s] = parseTimeOfDay(src, m[2]!);
    return { kind: 'cron', expr: `${s} ${mi} ${h} * * ${dow}` };
  }
  m = /^every (\d.*)$/.exec(text);
  if (m) return parseInterval(src, m[1]!);
  m = /^in (.+)$/.exec(text);
  if (m) {
    let ms: number;
    try {
      ms = parseDuration(m[1]!, 'schedule');
    } catch {
      return fail(src, `'${m[1]}' is not a duration (use e.g. in 30s, in 10 minutes, in 2 hours)`);
    }
    return { kind: 'once', at: now + ms, relative: true };
  }
  m = /^(today|tomorrow) at (.+)$/.exec(text);
  if (m) {
    const at = dayWall(zone, now, m[1] === 'today' ? 0 : 1, parseTimeOfDay(src, m[2]!));
    if (at <= now) fail(src, `that time has already passed today (${new Date(now).toISOString()}); use 'tomorrow at …'`);
    return { kind: 'once', at, relative: true };
  }
  m = /^at (.+)$/.exec(text);
  if (m) {
    const iso = parseIso(src, m[1]!, zone);
    if (iso !== null) return { kind: 'once', at: iso, relative: false };
    // `at 9am`: the next time the clock reads 9am in the zone — today or tomorrow.
    const hms = parseTimeOfDay(src, m[1]!);
    const today = dayWall(zone, now, 0, hms);
    return { kind: 'once', at: today > now ? today : dayWall(zone, now, 1, hms), relative: true };
  }
  const iso = parseIso(src, text, zone);
  if (iso !== null) return { kind: 'once', at: iso, relative: false };
  return fail(src, `is not a schedule; accepted forms: ${ACCEPTED_FORMS}`);
}
