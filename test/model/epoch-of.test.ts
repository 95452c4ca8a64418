import fc from 'fast-check';
import { epochOf } from '../../src/model/run';

describe('epochOf (Date.parse with the last two texts remembered)', () => {
  it('answers what Date.parse answers, in any order of texts', () => {
    const instant = fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms).toISOString());
    const text = fc.oneof(instant, fc.constant('not a time'), fc.constant(''));
    fc.assert(fc.property(fc.array(text, { maxLength: 30 }), (texts) => {
      for (const t of texts) expect(Object.is(epochOf(t), Date.parse(t))).toBe(true);
    }));
  });

  it('keeps alternating texts (a run\'s startedAt and scheduledAt) apart', () => {
    const a = '2026-12-01T10:00:00.000Z';
    const b = '2026-12-01T10:00:00.250Z';
    for (let i = 0; i < 3; i++) {
      expect(epochOf(a)).toBe(Date.parse(a));
      expect(epochOf(b)).toBe(Date.parse(b));
    }
  });
});
