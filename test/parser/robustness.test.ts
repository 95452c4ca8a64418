/**
 * A schedule must never crash the parser: any text either parses or is a ValidationError naming
 * `schedule` (never another error type), and computing fires of what parsed never throws.
 */
import fc from 'fast-check';
import { SchedulerError, ValidationError } from '../../src/errors';
import { ScheduleMath } from '../../src/actors/parser/schedule';

const TOKENS = ['*', '*/5', '0', '59', '60', '1-5', '5-1', 'L', '5L', '1#2', '1#9', 'MON', 'jan', '?', 'H', ',', '/', '-',
  'every', 'at', 'in', 'daily', 'tomorrow', 'today', '9am', '13pm', '25:00', '07:15', 'mon,wed', 'weekday', 'day',
  '30s', '5 minutes', '0s', '2027-02-29T09:00', '2027-01-01T09:00Z', '+05:30', '@reboot', '@daily', '@bogus', 'never',
  '1e9', '-1', '\u0000', '😀', 'minutes', 'hours', 'and'];

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 7 }).map((xs) => xs.join(' ')),
  fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 7 }).map((xs) => xs.join('')),
);

describe('robustness', () => {
  const math = new ScheduleMath();

  it('any text parses or fails with a one-line ValidationError; what parses computes fires', () => {
    fc.assert(fc.property(text, fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) }), (t, now) => {
      let s;
      try {
        s = math.parse(t, { tz: 'Europe/Berlin', now });
      } catch (err) {
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).field).toBe('schedule');
        expect((err as Error).message).not.toContain('\n');
        return;
      }
      const fires = math.slotsBetween(s, now, Number.MAX_SAFE_INTEGER, 3, now);
      fires.forEach((f, i) => expect(f).toBeGreaterThan(i === 0 ? now : fires[i - 1]!));
    }), { numRuns: 1500 });
  });

  it('instants at the edge of the JS date range give no fire rather than an error', () => {
    const s = math.parse('@daily', { tz: 'Australia/Lord_Howe', now: 0 });
    expect(math.nextFire(s, 8.64e15)).toBeNull();
    expect(math.nextFire(s, Number.NaN)).toBeNull();
    expect(() => math.parse('@daily', { now: Number.NaN })).toThrow(SchedulerError);
  });
});
