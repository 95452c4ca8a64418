/**
 * Regression (found by the robustness property test): schedule words are looked up in tables, and
 * text such as `__proto__` must be rejected like any other unknown word — not reach Object.prototype.
 */
import { parseSchedule } from '../../src/actors/parser/schedule';
import { parseDuration, parseSize } from '../../src/model/duration';

const now = Date.parse('2030-01-01T00:00:00Z');

describe('object-prototype words in user input', () => {
  it.each(['__proto__', 'constructor', 'toString', 'every constructor', 'every __proto__ at 9am',
    'every mon-constructor at 9am', '@constructor', 'hasOwnProperty'])('schedule %p is a VALIDATION error', (text) => {
    expect(() => parseSchedule(text, { tz: 'UTC', now })).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
  });

  it.each(['1constructor', '5__proto__', '3toString'])('duration/size %p is a VALIDATION error', (text) => {
    expect(() => parseDuration(text)).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
    expect(() => parseSize(text)).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
  });
});
