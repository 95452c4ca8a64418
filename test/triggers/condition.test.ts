import { ValidationError } from '../../src/errors';
import { holds, parseCondition } from '../../src/actors/triggers/condition';

function rejects(text: string): ValidationError {
  try {
    parseCondition(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error(`'${text}' was accepted`);
}

describe('parseCondition', () => {
  test.each([
    ['cpu < 10% for 10m', { metric: 'cpu', op: '<', value: 10, forMs: 600_000 }],
    ['cpu idle for 10m', { metric: 'cpu', op: '<', value: 10, forMs: 600_000 }],
    ['cpu idle', { metric: 'cpu', op: '<', value: 10, forMs: 0 }],
    ['memory > 80%', { metric: 'memory', op: '>', value: 80, forMs: 0 }],
    ['memory used > 80% for 1m', { metric: 'memory', op: '>', value: 80, forMs: 60_000 }],
    ['load > 2 for 5m', { metric: 'load', op: '>', value: 2, forMs: 300_000 }],
    ['cpu > 90% for 30s', { metric: 'cpu', op: '>', value: 90, forMs: 30_000 }],
    ['  CPU >= 12.5 FOR 1h30m ', { metric: 'cpu', op: '>=', value: 12.5, forMs: 5_400_000 }],
    ['mem usage<=50%', { metric: 'memory', op: '<=', value: 50, forMs: 0 }],
    ['load < 0.5', { metric: 'load', op: '<', value: 0.5, forMs: 0 }],
  ])('%s', (text, expected) => {
    expect(parseCondition(text)).toEqual({ ...expected, text: text.trim() });
  });

  test.each([
    '', '   ', 'cpu', 'cpu 10%', 'disk > 80%', 'cpu > ten%', 'cpu > 10% for ever', 'cpu > 10% for',
    'load > 50%', 'memory > 120%', 'cpu hot > 50%', 'cpu idle for 10 lightyears', 'cpu => 5',
  ])('rejects %j with code VALIDATION and field when', (text) => {
    const err = rejects(text);
    expect(err.code).toBe('VALIDATION');
    expect(err.field).toBe('when');
    // One line, so the CLI prints it as one `rae-sched: error:` line.
    expect(err.message).not.toContain('\n');
  });
});

describe('holds', () => {
  const sample = { cpu: 10, memory: 50, load: 1 };
  test.each([
    ['cpu < 10%', false], ['cpu <= 10%', true], ['cpu > 10%', false], ['cpu >= 10%', true],
    ['memory > 49%', true], ['load < 1', false], ['load <= 1', true],
  ] as const)('%s on cpu 10 / memory 50 / load 1 → %s', (text, expected) => {
    expect(holds(parseCondition(text), sample)).toBe(expected);
  });
});

describe('and / or', () => {
  const sample = (cpu: number, memory: number, load: number) => ({ cpu, memory, load });

  it('parses parts joined by and, with one for DUR for the whole', () => {
    const c = parseCondition('cpu idle and memory < 50% for 5m');
    expect(c).toMatchObject({ join: 'and', forMs: 300_000 });
    expect(c.parts!.map((p) => [p.metric, p.op, p.value, p.text])).toEqual([['cpu', '<', 10, 'cpu idle'], ['memory', '<', 50, 'memory < 50%']]);
    expect(holds(c, sample(5, 40, 0))).toBe(true);
    expect(holds(c, sample(5, 60, 0))).toBe(false);
  });

  it('or holds when any part holds', () => {
    const c = parseCondition('load > 4 or memory > 90%');
    expect(holds(c, sample(0, 95, 0))).toBe(true);
    expect(holds(c, sample(0, 10, 5))).toBe(true);
    expect(holds(c, sample(0, 10, 1))).toBe(false);
  });

  it.each([
    ['cpu idle and load > 1 or memory > 3', "mixes 'and' with 'or'"],
    ['banana > 3 and cpu idle', "unknown metric 'banana'"],
    ['cpu idle and nonsense', "a part that is not a condition: 'nonsense'"],
  ])('%s is refused naming the bad part and listing the metrics', (text, what) => {
    const e = rejects(text);
    expect(e.message).toContain(what);
    expect(e.message).toContain('metrics: cpu, memory, load');
  });
});
