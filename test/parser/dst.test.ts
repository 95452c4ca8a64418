/**
 * DST rules at fixed 2027 transitions in both hemispheres, a 30-minute DST zone and zones with
 * half-hour offsets; leap days and month ends. Expected values are written as wall clock + offset,
 * as a person would check them.
 */
import { nextRuns, parseSchedule, slotsBetween } from '../../src/actors/parser/schedule';

const DAY = 86_400_000;

/** `2027-03-14 03:30 GMT-04:00`: wall clock and offset of an instant in a zone. */
function wall(t: number, zone: string): string {
  const p: Record<string, string> = {};
  const fmt = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', timeZoneName: 'longOffset',
  });
  for (const x of fmt.formatToParts(t)) p[x.type] = x.value;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${p.timeZoneName === 'GMT' ? 'GMT+00:00' : p.timeZoneName}`;
}

const walls = (text: string, zone: string, fromIso: string, count: number) =>
  nextRuns(text, { tz: zone, from: new Date(fromIso), count }).map((d) => wall(d.getTime(), zone));

// [zone, spring-forward instant, fall-back instant, a time in the gap, a time in the repeat]
const ZONES: Array<[string, string, string, string, string]> = [
  ['America/New_York', '2027-03-14T07:00:00Z', '2027-11-07T06:00:00Z', '02:30', '01:30'],
  ['Europe/Berlin', '2027-03-28T01:00:00Z', '2027-10-31T01:00:00Z', '02:30', '02:30'],
  ['Australia/Sydney', '2027-10-02T16:00:00Z', '2027-04-03T16:00:00Z', '02:30', '02:30'],
  ['Pacific/Auckland', '2027-09-25T14:00:00Z', '2027-04-03T14:00:00Z', '02:30', '02:30'],
  ['America/Santiago', '2027-09-05T04:00:00Z', '2027-04-04T03:00:00Z', '00:30', '23:30'],
  ['Australia/Lord_Howe', '2027-10-02T15:30:00Z', '2027-04-03T15:00:00Z', '02:15', '01:45'],
  ['Australia/Adelaide', '2027-10-02T16:30:00Z', '2027-04-03T16:30:00Z', '02:30', '02:30'],
];

describe.each(ZONES)('%s', (zone, spring, fall, gapTime, repeatTime) => {
  const springMs = Date.parse(spring);
  const fallMs = Date.parse(fall);

  it(`a daily job at ${gapTime} (in the gap) fires once that day, the gap's length later`, () => {
    const got = walls(`every day at ${gapTime}`, zone, new Date(springMs - 1.5 * DAY).toISOString(), 3);
    const gapMinutes = zone === 'Australia/Lord_Howe' ? 30 : 60;
    const [h, m] = gapTime.split(':').map(Number) as [number, number];
    const shifted = new Date(Date.UTC(2000, 0, 1, h, m + gapMinutes)).toISOString().slice(11, 16);
    expect(got.map((w) => w.slice(11, 16))).toEqual([gapTime, shifted, gapTime]);
    expect(new Set(got.map((w) => w.slice(0, 10))).size).toBe(3); // three different calendar days
  });

  it(`a daily job at ${repeatTime} (in the repeated hour) fires only at its first occurrence`, () => {
    const got = walls(`every day at ${repeatTime}`, zone, new Date(fallMs - 1.5 * DAY).toISOString(), 3);
    expect(got.map((w) => w.slice(11, 16))).toEqual([repeatTime, repeatTime, repeatTime]);
    expect(new Set(got.map((w) => w.slice(0, 10))).size).toBe(3);
    // The middle one is the earlier, pre-change offset: the same as the day before.
    expect(got[1]!.slice(17)).toBe(got[0]!.slice(17));
  });

  it('every daily time of day fires exactly once per calendar day around both changes', () => {
    for (const around of [springMs, fallMs]) {
      const from = around - 1.5 * DAY;
      const to = around + 1.5 * DAY;
      for (let q = 0; q < 96; q++) {
        const hhmm = `${String(Math.floor(q / 4)).padStart(2, '0')}:${String((q % 4) * 15).padStart(2, '0')}`;
        const s = parseSchedule(`every day at ${hhmm}`, { tz: zone, now: from });
        const days = slotsBetween(s, from, to, 10).map((t) => wall(t, zone).slice(0, 10));
        expect({ hhmm, unique: new Set(days).size === days.length }).toEqual({ hhmm, unique: true });
        expect(days.length).toBeGreaterThanOrEqual(2);
      }
    }
  });

  it('a wildcard-hour job follows real time: both occurrences in the repeat, nothing in the gap', () => {
    const s = parseSchedule('*/30 * * * *', { tz: zone, now: 0 });
    const around = (t: number) => slotsBetween(s, t - 3 * 3_600_000, t + 3 * 3_600_000, 100);
    // Real time flows on through both changes: a fire every 30 real minutes, 12 in 6 hours.
    for (const t of [fallMs, springMs]) {
      const fires = around(t);
      expect(fires).toHaveLength(12);
      expect(fires.slice(1).every((f, i) => f - fires[i]! === 1_800_000)).toBe(true);
    }
    // In the repeat a wall time comes twice; no fire shows a wall time inside the gap.
    const fallWalls = around(fallMs).map((t) => wall(t, zone).slice(0, 16));
    expect(new Set(fallWalls).size).toBe(fallWalls.length - (zone === 'Australia/Lord_Howe' ? 1 : 2));
    // A wall time swallowed by the gap is simply not fired (not moved, as a fixed hour would be).
    const even = parseSchedule('0 */2 * * *', { tz: zone, now: 0 });
    const evenWalls = slotsBetween(even, springMs - 5 * 3_600_000, springMs + 5 * 3_600_000, 100)
      .map((t) => wall(t, zone).slice(11, 16));
    expect(evenWalls.filter((w) => !/^([02468]|1[02468]|2[02]):00$/.test(w.replace(/^0(?=\d)/, '')))).toEqual([]);
    expect(evenWalls.length).toBeGreaterThanOrEqual(4);
  });
});

describe('zones and calendars without DST surprises', () => {
  it('Asia/Kolkata (+05:30, no DST) keeps its wall time all year', () => {
    expect(walls('0 9 * * *', 'Asia/Kolkata', '2027-03-27T00:00:00Z', 3)).toEqual([
      '2027-03-27 09:00 GMT+05:30', '2027-03-28 09:00 GMT+05:30', '2027-03-29 09:00 GMT+05:30',
    ]);
  });

  it('leap days: 29 February fires only in leap years, and L finds it', () => {
    expect(walls('0 0 29 2 *', 'UTC', '2027-01-01T00:00:00Z', 2)).toEqual([
      '2028-02-29 00:00 GMT+00:00', '2032-02-29 00:00 GMT+00:00',
    ]);
    expect(walls('0 12 L 2 *', 'Europe/Berlin', '2027-01-01T00:00:00Z', 2)).toEqual([
      '2027-02-28 12:00 GMT+01:00', '2028-02-29 12:00 GMT+01:00',
    ]);
  });

  it('L is the last day of every month', () => {
    const days = walls('30 23 L * *', 'America/New_York', '2028-01-01T05:00:00Z', 12).map((w) => w.slice(0, 10));
    expect(days).toEqual([
      '2028-01-31', '2028-02-29', '2028-03-31', '2028-04-30', '2028-05-31', '2028-06-30',
      '2028-07-31', '2028-08-31', '2028-09-30', '2028-10-31', '2028-11-30', '2028-12-31',
    ]);
  });

  it('the last Friday (5L) and the second Monday (1#2) of a month', () => {
    expect(walls('0 8 * * 5L', 'Australia/Sydney', '2027-01-01T00:00:00Z', 2).map((w) => w.slice(0, 10)))
      .toEqual(['2027-01-29', '2027-02-26']);
    expect(walls('0 8 * * MON#2', 'Pacific/Auckland', '2027-01-01T00:00:00Z', 2).map((w) => w.slice(0, 10)))
      .toEqual(['2027-01-11', '2027-02-08']);
  });
});
