import { newId } from '../../src/model/ids';
import { parseDuration, parseSize, formatDuration } from '../../src/model/duration';

describe('newId', () => {
  it('sorts in creation order within one millisecond and when the clock goes back', () => {
    const ids = [newId('run', 1000), newId('run', 1000), newId('run', 1000), newId('run', 999), newId('run', 1001)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toMatch(/^run_[0-9a-z]{22}$/);
  });
});

describe('durations and sizes', () => {
  it.each([['500ms', 500], ['30s', 30_000], ['5m', 300_000], ['2h', 7_200_000], ['1h30m', 5_400_000], ['1.5s', 1500]])(
    '%s = %i ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', 'fast', '10', '5 parsecs', '-1s'])('%p is not a duration', (text) => {
    expect(() => parseDuration(text, '--timeout')).toThrow(expect.objectContaining({ code: 'VALIDATION', field: '--timeout' }));
  });
  it.each([['256MB', 256 * 1024 ** 2], ['1GB', 1024 ** 3], ['512k', 512 * 1024], ['100', 100]])(
    '%s = %i bytes', (text, n) => expect(parseSize(text)).toBe(n));
  it('formats durations for people', () => {
    expect([850, 12_300, 302_000, 11_400_000].map(formatDuration)).toEqual(['850ms', '12.3s', '5m 2s', '3h 10m']);
  });
});
