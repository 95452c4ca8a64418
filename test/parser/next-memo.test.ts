/**
 * The cron next-fire memo (ScheduleMath keeps its last answer per expression and zone, and answers
 * every `after` inside the gap it proved empty) and the UTC zone's offsets without Intl: both must
 * give exactly what a fresh computation gives, in DST zones and out of order.
 */
import { ScheduleMath, type Schedule } from '../../src/actors/parser/schedule';
import { ZoneClock } from '../../src/actors/parser/zone';

const T0 = Date.parse('2027-03-13T00:00:00Z'); // the weekend of New York's spring-forward
const HOUR = 3_600_000;

describe('cron next fire memo', () => {
  const cases: Array<[string, string]> = [
    ['*/15 * * * *', 'America/New_York'], ['30 2 * * *', 'America/New_York'], ['0 1 * * *', 'Europe/London'],
    ['*/5 * * * *', 'UTC'], ['0 9 * * 1-5', 'Asia/Kolkata'],
  ];
  it.each(cases)('%s in %s: the same answers as a fresh computation, in order and out of order', (expr, tz) => {
    const memo = new ScheduleMath();
    const s = memo.parse(expr, { tz, now: T0 }) as Schedule;
    // Increasing instants (as start-up and fires ask), then a pseudo-random order with repeats.
    const afters = Array.from({ length: 300 }, (_, i) => T0 + i * 7 * 60_000 + (i % 3) * 1000);
    const shuffled = afters.map((_, i) => afters[(i * 7919) % afters.length]!);
    for (const after of [...afters, ...shuffled]) {
      expect(memo.nextFire(s, after)).toBe(new ScheduleMath().nextFire(s, after));
    }
  });

  it('many jobs asking after the same instant share one computation and get the same slot', () => {
    const m = new ScheduleMath();
    const s = m.parse('0 3 * * *', { tz: 'Europe/Berlin', now: T0 });
    const first = m.nextFire(s, T0);
    // 03:00 in Berlin is 02:00Z that day: every instant before it has that answer.
    for (let i = 0; i < 1000; i++) expect(m.nextFire(s, T0 + (i % 120) * 60_000)).toBe(first);
    expect(m.nextFire(s, first!)).toBe(new ScheduleMath().nextFire(s, first!));
  });
});

describe('UTC zone clock', () => {
  it.each(['UTC', 'Etc/UTC'])('%s: offset 0 and instants as Intl gives them', (tz) => {
    const z = new ZoneClock(tz);
    for (const t of [T0, 0, Date.parse("1900-06-01T00:30:00Z")]) {
      expect(z.offsetAt(t)).toBe(0);
      expect(z.resolve(t)).toEqual({ instants: [t], before: 0, after: 0 });
    }
  });

  it('a zone that is at offset 0 only part of the year still asks Intl', () => {
    const london = new ZoneClock('Europe/London');
    expect(london.offsetAt(Date.parse('2027-01-15T12:00:00Z'))).toBe(0);
    expect(london.offsetAt(Date.parse('2027-07-15T12:00:00Z'))).toBe(HOUR);
  });
});
