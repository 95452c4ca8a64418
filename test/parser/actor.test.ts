/** The parser actor's handlers, called directly (placement-agnostic logic). */
import { createParserHandlers } from '../../src/actors/parser/actor';

const NOW = Date.UTC(2027, 0, 1, 10, 0);

describe('parser handlers', () => {
  const h = createParserHandlers();

  it('parse returns plain, structured-clonable data', () => {
    const s = h.parse({ text: 'every weekday at 9am', tz: 'Europe/Berlin', now: NOW });
    expect(structuredClone(s)).toEqual(s);
    expect(s).toMatchObject({ kind: 'cron', tz: 'Europe/Berlin', expr: '0 0 9 * * 1,2,3,4,5' });
  });

  it('next chains fire times and stops when the schedule ends', () => {
    const cron = h.parse({ text: '@hourly', tz: 'UTC', now: NOW });
    expect(h.next({ schedule: cron, after: NOW, count: 3 })).toEqual([1, 2, 3].map((k) => NOW + k * 3_600_000));
    const once = h.parse({ text: 'in 5 minutes', now: NOW });
    expect(h.next({ schedule: once, after: NOW, count: 3 })).toEqual([NOW + 300_000]);
    const interval = h.parse({ text: 'every 10s', now: NOW });
    expect(h.next({ schedule: interval, after: NOW + 15_000, anchor: NOW, count: 2 })).toEqual([NOW + 20_000, NOW + 30_000]);
    expect(h.next({ schedule: h.parse({ text: 'never', now: NOW }), after: NOW, count: 3 })).toEqual([]);
  });

  it('slots lists missed fire times within bounds', () => {
    const s = h.parse({ text: '*/20 * * * *', tz: 'UTC', now: NOW });
    expect(h.slots({ schedule: s, from: NOW, to: NOW + 3_600_000, limit: 10 })).toHaveLength(3);
    expect(h.slots({ schedule: s, from: NOW, to: NOW + 3_600_000, limit: 2 })).toHaveLength(2);
  });

  it('bad payloads are ValidationErrors naming the field', () => {
    expect(() => h.parse({ text: '61 * * * *', now: NOW })).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'schedule' }));
    expect(() => h.parse({ text: '@daily', tz: 'Nowhere/Land', now: NOW })).toThrow(expect.objectContaining({ field: 'timezone' }));
    expect(() => h.next({ schedule: { kind: 'bogus' } as never, after: NOW, count: 1 }))
      .toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'schedule' }));
    const s = h.parse({ text: '@daily', tz: 'UTC', now: NOW });
    expect(() => h.next({ schedule: s, after: NOW, count: -1 })).toThrow(expect.objectContaining({ field: 'count' }));
    expect(() => h.slots({ schedule: s, from: NOW, to: NOW, limit: 1.5 })).toThrow(expect.objectContaining({ field: 'limit' }));
  });
});
