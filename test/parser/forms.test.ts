/** Every schedule form of the contract, its canonical text, and the one-line errors. */
import { ValidationError } from '../../src/errors';
import {
  type Schedule, machineTimeZone, nextFire, nextRuns, parseSchedule, slotsBetween, validateTimeZone,
} from '../../src/actors/parser/schedule';

const NOW = Date.UTC(2027, 0, 1, 10, 0); // Friday 2027-01-01 10:00 UTC
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const parse = (text: string, tz: string | null = 'UTC', now = NOW) => parseSchedule(text, { tz, now });
const runs = (text: string, tz = 'UTC', count = 3, from = NOW) =>
  nextRuns(text, { tz, from: new Date(from), count }).map((d) => d.toISOString());

/** The ValidationError `fn` throws (fails the test when it throws anything else, or nothing). */
function rejection(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('cron', () => {
  it.each([
    ['*/5 * * * *', '0 */5 * * * *', ['2027-01-01T10:05:00.000Z', '2027-01-01T10:10:00.000Z']],
    ['*/10 * * * * *', '*/10 * * * * *', ['2027-01-01T10:00:10.000Z', '2027-01-01T10:00:20.000Z']],
    ['0 9-17/4 * * MON-FRI', '0 0 9-17/4 * * MON-FRI', ['2027-01-01T13:00:00.000Z', '2027-01-01T17:00:00.000Z']],
    ['0 0 1,15 JAN,jul *', '0 0 0 1,15 JAN,jul *', ['2027-01-15T00:00:00.000Z', '2027-07-01T00:00:00.000Z']],
    ['0 12 L * *', '0 0 12 L * *', ['2027-01-31T12:00:00.000Z', '2027-02-28T12:00:00.000Z']],
    ['0 8 * * 1#2', '0 0 8 * * 1#2', ['2027-01-11T08:00:00.000Z', '2027-02-08T08:00:00.000Z']],
    ['0 8 * * 5L', '0 0 8 * * 5L', ['2027-01-29T08:00:00.000Z', '2027-02-26T08:00:00.000Z']],
    ['@yearly', '0 0 0 1 1 *', ['2028-01-01T00:00:00.000Z', '2029-01-01T00:00:00.000Z']],
    ['@monthly', '0 0 0 1 * *', ['2027-02-01T00:00:00.000Z', '2027-03-01T00:00:00.000Z']],
    ['@weekly', '0 0 0 * * 0', ['2027-01-03T00:00:00.000Z', '2027-01-10T00:00:00.000Z']],
    ['@daily', '0 0 0 * * *', ['2027-01-02T00:00:00.000Z', '2027-01-03T00:00:00.000Z']],
    ['@hourly', '0 0 * * * *', ['2027-01-01T11:00:00.000Z', '2027-01-01T12:00:00.000Z']],
  ])('%s', (text, expr, first) => {
    const s = parse(text);
    expect(s).toEqual({ kind: 'cron', expr, tz: 'UTC', source: text, canonical: text });
    expect(runs(text, 'UTC', 2)).toEqual(first);
  });

  it.each([
    // Lists whose values overlap mean the union (Vixie cron, croner, cron-parser 4, croniter agree).
    ['0 0 * * 0,7', ['2027-01-03T00:00:00.000Z', '2027-01-10T00:00:00.000Z']],
    ['1 1 0-6,1,10 * * *', ['2027-01-01T10:01:01.000Z', '2027-01-02T00:01:01.000Z']],
    ['*/10,30-35 * * * * *', ['2027-01-01T10:00:10.000Z', '2027-01-01T10:00:20.000Z', '2027-01-01T10:00:30.000Z',
      '2027-01-01T10:00:31.000Z', '2027-01-01T10:00:32.000Z', '2027-01-01T10:00:33.000Z', '2027-01-01T10:00:34.000Z',
      '2027-01-01T10:00:35.000Z', '2027-01-01T10:00:40.000Z']],
    ['0 0 1,1,15 JAN,jan *', ['2027-01-15T00:00:00.000Z', '2028-01-01T00:00:00.000Z']],
    ['0 0 * * 5-7,1', ['2027-01-02T00:00:00.000Z', '2027-01-03T00:00:00.000Z']],
    // The syntax is case-insensitive: a lowercase `l` is `L`.
    ['0 0 l * *', ['2027-01-31T00:00:00.000Z', '2027-02-28T00:00:00.000Z']],
    ['0 0 * * 5l', ['2027-01-29T00:00:00.000Z', '2027-02-26T00:00:00.000Z']],
  ])('%s is accepted and keeps the typed text', (text, first) => {
    const s = parse(text);
    expect(s.canonical).toBe(text);
    expect(runs(text, 'UTC', first.length)).toEqual(first);
  });

  it('fires in the job zone, including half-hour offsets', () => {
    expect(runs('0 9 * * *', 'Asia/Kolkata', 1)).toEqual(['2027-01-02T03:30:00.000Z']);
    expect(runs('0 9 * * *', 'Australia/Adelaide', 1)).toEqual(['2027-01-01T22:30:00.000Z']);
  });

  it.each([
    ['61 * * * *', /minute field '61' is out of range \(0–59\)/],
    ['0 24 * * *', /hour field '24' is out of range \(0–23\)/],
    ['0 0 32 * *', /day-of-month field '32' is out of range/],
    ['0 0 * 13 *', /month field '13' is out of range/],
    ['0 0 * * 8', /day-of-week field '8' is out of range/],
    ['70 * * * * *', /second field '70' is out of range/],
    ['*/0 * * * *', /minute field '\*\/0' is not valid/],
    ['0 0 * * FOO', /day-of-week field 'FOO' is not valid/],
    ['* * * *', /has 4 fields; cron needs 5/],
    ['* * * * * * *', /has 7 fields/],
    ['0 0 30 2 *', /never fires/],
    ['0 H * * *', /H \(hash\) form is not supported/],
    ['@fortnightly', /not a known macro/],
  ])('%s is rejected with one line naming the part', (text, message) => {
    const e = rejection(() => parse(text));
    expect(e.code).toBe('VALIDATION');
    expect(e.field).toBe('schedule');
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain('\n');
  });
});

describe('intervals', () => {
  it.each([
    ['every 30s', 30_000], ['every 30 seconds', 30_000], ['every 5 minutes', 300_000],
    ['every 2 hours', 7_200_000], ['every 3 days', 259_200_000], ['Every 1h30m', 5_400_000],
  ])('%s', (text, everyMs) => {
    expect(parse(text)).toEqual({ kind: 'interval', everyMs, source: text, canonical: text });
  });

  it('is anchored and elapsed (not wall) time, even across a DST change', () => {
    const s = parse('every 2 hours', 'America/New_York');
    const anchor = Date.UTC(2027, 2, 14, 5, 0); // 00:00 EST, the night the clocks go forward
    expect(nextFire(s, anchor + 1, anchor)).toBe(anchor + 7_200_000);
    expect(nextFire(s, anchor + 7_200_000, anchor)).toBe(anchor + 14_400_000);
    expect(slotsBetween(s, anchor, anchor + 3 * 86_400_000, 1000, anchor)).toHaveLength(36);
    expect(nextFire(s, anchor - 1, anchor)).toBe(anchor);
    expect(nextFire(s, anchor)).toBe(anchor + 7_200_000); // anchored at `after` by default
  });

  it('rejects bad amounts with a message about intervals', () => {
    expect(rejection(() => parse('every 5 fortnights')).message).toMatch(/not an interval/);
    expect(rejection(() => parse('every 0s')).message).toMatch(/at least 1 second/);
  });
});

describe('calendar English', () => {
  it.each([
    ['every day at 09:30', '0 30 9 * * *'],
    ['daily at 6pm', '0 0 18 * * *'],
    ['every weekday at 9am', '0 0 9 * * 1,2,3,4,5'],
    ['every monday at 18:00', '0 0 18 * * 1'],
    ['every mon,wed,fri at 7:15', '0 15 7 * * 1,3,5'],
    ['every Saturday and Sunday at 12am', '0 0 0 * * 0,6'],
    ['every weekend at noon', '0 0 12 * * 0,6'],
    ['every tue-thu at 7:15:30pm', '30 15 19 * * 2,3,4'],
    ['hourly', '0 0 * * * *'],
    ['daily', '0 0 0 * * *'],
    ['weekly', '0 0 0 * * 0'],
    ['monthly', '0 0 0 1 * *'],
    ['every hour', '0 0 * * * *'],
    ['every minute', '0 * * * * *'],
  ])('%s → %s', (text, expr) => {
    expect(parse(text, 'Europe/Berlin')).toEqual({ kind: 'cron', expr, tz: 'Europe/Berlin', source: text, canonical: text });
  });

  it('fires at the wall time in the zone', () => {
    expect(runs('every weekday at 9am', 'Europe/Berlin', 2)).toEqual(['2027-01-04T08:00:00.000Z', '2027-01-05T08:00:00.000Z']);
    expect(runs('every monday at 18:00', 'America/New_York', 1)).toEqual(['2027-01-04T23:00:00.000Z']);
  });

  it.each([
    ['every day at 25:00', /'25:00' is not a time of day/],
    ['every day at 13pm', /'13pm' is not a time of day/],
    ['every funday at 9am', /'funday' is not a day/],
    ['every banana', /accepted forms: cron .*interval .*calendar .*one-time .*event-only/],
    ['sometimes', /accepted forms/],
  ])('%s is rejected', (text, message) => {
    const e = rejection(() => parse(text));
    expect([e.code, e.field]).toEqual(['VALIDATION', 'schedule']);
    expect(e.message).toMatch(message);
  });
});

describe('one-time', () => {
  const once = (s: Schedule) => {
    expect(s.kind).toBe('once');
    return s as Extract<Schedule, { kind: 'once' }>;
  };

  it('at a local date-time uses the zone, else the machine zone', () => {
    expect(iso(once(parse('at 2027-01-01T09:00', 'Europe/Berlin')).at)).toBe('2027-01-01T08:00:00.000Z');
    expect(iso(once(parse('at 2027-06-01 09:00', 'Europe/Berlin')).at)).toBe('2027-06-01T07:00:00.000Z');
    expect(iso(once(parse('at 2027-01-01', 'Asia/Kolkata')).at)).toBe('2026-12-31T18:30:00.000Z');
    const local = once(parse('at 2027-01-01T09:00', null));
    expect(local.at).toBe(once(parse('at 2027-01-01T09:00', machineTimeZone())).at);
  });

  it('ISO timestamps with an offset ignore the zone', () => {
    expect(iso(once(parse('2027-01-01T09:00:00Z', 'Asia/Tokyo')).at)).toBe('2027-01-01T09:00:00.000Z');
    expect(iso(once(parse('at 2027-01-01T09:00:00.250+05:30', 'UTC')).at)).toBe('2027-01-01T03:30:00.250Z');
    expect(iso(once(parse('2027-01-01T09:00-0800')).at)).toBe('2027-01-01T17:00:00.000Z');
  });

  it('relative forms count from now and have an absolute canonical form that re-parses identically', () => {
    const inTen = once(parse('in 10 minutes'));
    expect(inTen.at).toBe(NOW + 600_000);
    expect(inTen.canonical).toBe('at 2027-01-01T10:10:00.000Z');
    const tomorrow = once(parse('tomorrow at 8am', 'America/New_York'));
    expect(iso(tomorrow.at)).toBe('2027-01-02T13:00:00.000Z');
    for (const s of [inTen, tomorrow]) {
      const again = once(parse(s.canonical, 'Pacific/Kiritimati', NOW + 86_400_000 * 40));
      expect(again.at).toBe(s.at);
      expect(again.canonical).toBe(s.canonical);
    }
    // `at 9am` means the next time the clock reads 9am: today is past (10:00 UTC), so tomorrow.
    expect(iso(once(parse('at 9am')).at)).toBe('2027-01-02T09:00:00.000Z');
    expect(iso(once(parse('at 11:30')).at)).toBe('2027-01-01T11:30:00.000Z');
    expect(iso(once(parse('today at 11pm', 'Asia/Tokyo')).at)).toBe('2027-01-01T14:00:00.000Z');
  });

  it('fires once; a past time parses (for restarts) but never fires', () => {
    const s = parse('at 2027-01-01T12:00', 'UTC');
    expect(slotsBetween(s, NOW, NOW + 86_400_000 * 365, 10)).toEqual([Date.UTC(2027, 0, 1, 12)]);
    expect(nextFire(s, Date.UTC(2027, 0, 1, 12))).toBeNull();
    expect(runs('at 2020-01-01T00:00Z')).toEqual([]);
  });

  it('a local time in a DST gap moves past the gap; in a repeated hour it is the first occurrence', () => {
    expect(iso(once(parse('at 2027-03-14T02:30', 'America/New_York')).at)).toBe('2027-03-14T07:30:00.000Z'); // 03:30 EDT
    expect(iso(once(parse('at 2027-11-07T01:30', 'America/New_York')).at)).toBe('2027-11-07T05:30:00.000Z'); // 01:30 EDT
  });

  it.each([
    ['at 2027-02-30T09:00', /not a valid date and time/],
    ['at 2027-01-01T24:00', /not a valid date and time/],
    ['in soon', /not a duration/],
    ['tomorrow at 8', /not a time of day/],
    ['today at 9am', /already passed/],
  ])('%s is rejected', (text, message) => {
    expect(rejection(() => parse(text)).message).toMatch(message);
  });
});

describe('event-only', () => {
  it.each([['@reboot', 'reboot'], ['never', 'never'], ['NEVER', 'never']])('%s never fires by time', (text, event) => {
    const s = parse(text);
    expect(s).toEqual({ kind: 'event', event, source: text, canonical: text });
    expect(nextFire(s, NOW)).toBeNull();
    expect(slotsBetween(s, 0, NOW * 2, 10)).toEqual([]);
  });
});

describe('zones and options', () => {
  it('validates zones and returns the canonical name', () => {
    expect(validateTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(validateTimeZone('utc')).toBe('UTC');
    expect(validateTimeZone(' Europe/Berlin ')).toBe('Europe/Berlin');
    expect(rejection(() => validateTimeZone('')).field).toBe('timezone');
    const e = rejection(() => parse('0 9 * * *', 'Mars/Olympus'));
    expect([e.code, e.field]).toEqual(['VALIDATION', 'timezone']);
    expect(e.message).toContain("'Mars/Olympus'");
    // A named zone is checked whatever the form (the machine's zone is looked up lazily, a named one is not).
    for (const text of ['every 5m', '@reboot', 'in 10 minutes']) {
      expect(rejection(() => parse(text, 'Mars/Olympus')).field).toBe('timezone');
    }
    expect(machineTimeZone()).toBe(validateTimeZone(machineTimeZone()));
  });

  it('reads wall-time forms in the machine zone when none is named, and intervals without one', () => {
    const machine = machineTimeZone();
    expect(parse('0 9 * * *', null)).toMatchObject({ kind: 'cron', tz: machine });
    expect(parse('every day at 9am', null)).toMatchObject({ kind: 'cron', tz: machine });
    expect(parse('at 2030-01-01T09:00', null).kind).toBe('once');
    expect(parse('at 2030-01-01T09:00', null)).toEqual(parseSchedule('at 2030-01-01T09:00', { tz: machine, now: NOW }));
    expect(parse('every 90s', null)).toEqual({ kind: 'interval', everyMs: 90_000, source: 'every 90s', canonical: 'every 90s' });
  });

  it('nextRuns defaults to 5 runs and checks its options', () => {
    expect(nextRuns('@hourly', { tz: 'UTC', from: new Date(NOW) })).toHaveLength(5);
    expect(rejection(() => nextRuns('@hourly', { count: 0 })).field).toBe('count');
    expect(rejection(() => nextRuns('@hourly', { from: new Date('nope') })).field).toBe('from');
    expect(rejection(() => nextRuns('   ')).field).toBe('schedule');
  });

  it('slotsBetween honours its bounds and limit', () => {
    const s = parse('*/15 * * * *');
    expect(slotsBetween(s, NOW, NOW + 3_600_000, 100).map(iso)).toEqual([
      '2027-01-01T10:15:00.000Z', '2027-01-01T10:30:00.000Z', '2027-01-01T10:45:00.000Z', '2027-01-01T11:00:00.000Z',
    ]);
    expect(slotsBetween(s, NOW, NOW + 86_400_000, 3)).toHaveLength(3);
  });
});
