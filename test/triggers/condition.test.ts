import { ValidationError } from '../../src/errors';
import { describeValue, holds, parseCondition, signalsOf, type Check } from '../../src/actors/triggers/condition';
import type { Reading, Sample } from '../../src/actors/triggers/signals';

function rejects(text: string): ValidationError {
  try {
    parseCondition(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error(`'${text}' was accepted`);
}

/** The one check of a single-check condition, without its text. */
function one(text: string): Omit<Check, 'text'> & { forMs: number } {
  const c = parseCondition(text);
  expect(c.parts).toHaveLength(1);
  const { text: _t, ...rest } = c.parts[0]!;
  return { ...rest, forMs: c.forMs };
}

const GB = 1024 ** 3;
const MB = 1024 ** 2;

describe('parseCondition: the first metrics', () => {
  test.each([
    ['cpu < 10% for 10m', { metric: 'cpu', op: '<', value: 10, forMs: 600_000 }],
    ['cpu idle for 10m', { metric: 'cpu', op: '<', value: 10, forMs: 600_000 }],
    ['cpu idle', { metric: 'cpu', op: '<', value: 10, forMs: 0 }],
    ['memory > 80%', { metric: 'memory', op: '>', value: 80, forMs: 0 }],
    ['memory used > 80% for 1m', { metric: 'memory', op: '>', value: 80, forMs: 60_000 }],
    ['load > 2 for 5m', { metric: 'load', op: '>', value: 2, forMs: 300_000, unit: 'number' }],
    ['cpu > 90% for 30s', { metric: 'cpu', op: '>', value: 90, forMs: 30_000 }],
    ['  CPU >= 12.5 FOR 1h30m ', { metric: 'cpu', op: '>=', value: 12.5, forMs: 5_400_000 }],
    ['mem usage<=50%', { metric: 'memory', op: '<=', value: 50, forMs: 0, signal: 'memory', field: 'usedPercent' }],
    ['load < 0.5', { metric: 'load', op: '<', value: 0.5, forMs: 0 }],
  ])('%s', (text, expected) => {
    expect(one(text)).toMatchObject(expected);
  });
});

describe('parseCondition: the new metrics', () => {
  test.each([
    ['memory.free < 2GB', { metric: 'memory.free', op: '<', value: 2 * GB, unit: 'bytes', signal: 'memory', field: 'freeBytes' }],
    ['mem free < 10%', { metric: 'memory.free', value: 10, unit: '%', field: 'freePercent' }],
    ['swap > 50%', { metric: 'swap', value: 50, unit: '%', signal: 'swap', field: 'usedPercent' }],
    ['swap used > 512MB for 1m', { metric: 'swap', value: 512 * MB, unit: 'bytes', field: 'usedBytes', forMs: 60_000 }],
    ['disk(/) free < 5GB', { metric: 'disk.free', target: '/', value: 5 * GB, unit: 'bytes', signal: 'disk:/', field: 'freeBytes' }],
    ['disk(/var).free < 10%', { metric: 'disk.free', target: '/var', value: 10, unit: '%', signal: 'disk:/var', field: 'freePercent' }],
    ['disk(/) free < 5 GB', { value: 5 * GB, unit: 'bytes' }],
    ['DISK(/Data/My Files).FREE <= 1.5gb', { target: '/Data/My Files', value: 1.5 * GB, signal: 'disk:/Data/My Files' }],
    ['process(nginx).cpu > 80% for 2m', { metric: 'process.cpu', target: 'nginx', value: 80, unit: '%', signal: 'process:nginx', field: 'cpu' }],
    ['process(java).cpu > 250%', { metric: 'process.cpu', value: 250 }],
    ['process(Postgres).memory > 1GB', { metric: 'process.memory', target: 'Postgres', value: GB, unit: 'bytes', field: 'memoryBytes' }],
    ['process(redis-server).memory > 20%', { metric: 'process.memory', unit: '%', field: 'memoryPercent' }],
    ['process(nginx) running', { metric: 'process.running', op: '=', value: 1, unit: 'flag', signal: 'process:nginx', field: 'running' }],
    ['process(nginx) not running for 1m', { metric: 'process.running', value: 0, forMs: 60_000 }],
    ['process(pidfile:/run/My.pid) not running', { target: 'pidfile:/run/My.pid', signal: 'process:pidfile:/run/My.pid', value: 0 }],
    ['battery < 20%', { metric: 'battery', op: '<', value: 20, unit: '%', signal: 'battery', field: 'battery' }],
    ['battery level <= 15', { metric: 'battery', value: 15, unit: '%' }],
    ['on ac power', { metric: 'ac', op: '=', value: 1, signal: 'power', field: 'ac' }],
    ['on AC', { metric: 'ac', value: 1 }],
    ['on battery', { metric: 'ac', value: 0, signal: 'power' }],
    ['idle for 15m', { metric: 'idle', op: '=', value: 1, signal: 'input', field: 'idle', forMs: 900_000 }],
    ['user idle', { metric: 'idle', value: 1 }],
  ])('%s', (text, expected) => {
    expect(one(text)).toMatchObject(expected);
  });

  test('a compound condition keeps each part and the signals it reads, once each', () => {
    const c = parseCondition('battery < 20% and on battery and disk(/) free < 1GB for 30s');
    expect(c.join).toBe('and');
    expect(c.forMs).toBe(30_000);
    expect(c.parts.map((p) => p.text)).toEqual(['battery < 20%', 'on battery', 'disk(/) free < 1gb']);
    expect(signalsOf(c)).toEqual(['battery', 'power', 'disk:/']);
    // Arguments keep their case and may hold the words "for", "and", "or".
    const p = parseCondition('process(pidfile:/run/for and or.pid) not running or cpu idle for 1m');
    expect(p.parts.map((x) => x.target ?? x.metric)).toEqual(['pidfile:/run/for and or.pid', 'cpu']);
    expect(p).toMatchObject({ join: 'or', forMs: 60_000 });
  });
});

describe('parseCondition refusals', () => {
  test.each([
    '', '   ', 'cpu', 'cpu 10%', 'cpu > ten%', 'cpu > 10% for ever', 'cpu > 10% for',
    'load > 50%', 'memory > 120%', 'cpu hot > 50%', 'cpu idle for 10 lightyears', 'cpu => 5',
  ])('rejects %j with code VALIDATION and field when', (text) => {
    const err = rejects(text);
    expect(err.code).toBe('VALIDATION');
    expect(err.field).toBe('when');
    // One line, so the CLI prints it as one `rae-sched: error:` line.
    expect(err.message).not.toContain('\n');
  });

  test.each([
    ['banana > 3', "unknown metric 'banana'"],
    ['disk > 80%', "needs a field after 'disk'"],
    ['disk.free < 5GB', 'needs disk(PATH)'],
    ['disk(var).free < 5GB', 'needs an absolute path in disk(var)'],
    ['disk(/).used > 5GB', "unknown field 'used' of disk"],
    ['disk(/) frea < 1GB', "unexpected word 'frea' after 'disk(…)' (disk.free)"],
    ['process(x) cpus > 5%', "unexpected word 'cpus' after 'process(…)' (process.cpu, process.memory)"],
    ['disk(/).free < 5 parsecs', "bad threshold '5 parsecs'"],
    ['disk(/).free < 5XB', "bad threshold '5xb'"],
    ['disk(/.free < 5GB', 'unbalanced parenthesis'],
    ['memory.free < lots', "bad threshold 'lots'"],
    ['cpu(/x) > 5', "argument '(/x)'"],
    ['process(a b) running', "bad process name 'a b'"],
    ['process(pidfile:x.pid) running', 'absolute path in process(pidfile:x.pid)'],
    ['process(nginx) asleep', 'is not a condition'],
    ['process(nginx).cpu = 5', "'='"],
    ['battery > 5GB', "bad threshold '5gb'"],
    ['battery > 101%', 'above 100%'],
    ['load > 2GB', "bad threshold '2gb'"],
    ['idle > 5', 'yes/no check'],
    ['on fire', 'is not a condition'],
    ['cpu idle and load > 1 or memory > 3', "mixes 'and' with 'or'"],
    ['banana > 3 and cpu idle', "unknown metric 'banana'"],
    ['cpu idle and nonsense', "a part that is not a condition: 'nonsense'"],
    ['cpu idle for 1m and on battery', "'for DUR' inside a part"],
  ])('%s is refused naming the bad token and listing the metrics', (text, what) => {
    const e = rejects(text);
    expect(e.message).toContain(what);
    expect(e.message).toContain('metrics: cpu, memory, memory.free, swap, load, disk(PATH).free, process(NAME).cpu');
    expect(e.message).toContain('battery, on ac power, on battery, idle');
    expect(e.message).not.toContain('\n');
  });
});

function sample(entries: Record<string, Reading>): Sample {
  return new Map(Object.entries(entries));
}

describe('holds', () => {
  const s = sample({
    cpu: { percent: 10 }, memory: { usedPercent: 50, freeBytes: 3 * GB, freePercent: 25 }, load: { load1: 1 },
    swap: { usedBytes: 0, usedPercent: 0 }, 'disk:/': { freeBytes: 4 * GB, freePercent: 8 },
    'process:nginx': { running: 1, cpu: 120, memoryBytes: 200 * MB, memoryPercent: 2 },
    'process:pidfile:/run/x.pid': { running: 0, cpu: 0, memoryBytes: 0, memoryPercent: 0 },
    battery: { battery: 18 }, power: { ac: 0 }, input: { idle: 1 },
  });
  test.each([
    ['cpu < 10%', false], ['cpu <= 10%', true], ['cpu > 10%', false], ['cpu >= 10%', true],
    ['memory > 49%', true], ['load < 1', false], ['load <= 1', true],
    ['memory.free < 2GB', false], ['memory.free < 4GB', true], ['memory.free < 30%', true],
    ['swap > 0%', false], ['swap >= 0', true],
    ['disk(/) free < 5GB', true], ['disk(/).free < 5%', false],
    ['process(nginx) running', true], ['process(nginx) not running', false],
    ['process(nginx).cpu > 100%', true], ['process(nginx).memory > 100MB', true], ['process(nginx).memory > 5%', false],
    ['process(pidfile:/run/x.pid) not running', true],
    ['battery < 20%', true], ['on battery', true], ['on ac power', false], ['idle', true],
    ['battery < 20% and on battery', true], ['battery < 10% or on ac power', false],
  ] as const)('%s → %s', (text, expected) => {
    expect(holds(parseCondition(text), s)).toBe(expected);
  });

  test('a signal missing from the sample (could not be read) fails its checks', () => {
    expect(holds(parseCondition('disk(/mnt).free < 100%'), s)).toBe(false);
    expect(holds(parseCondition('process(x) not running'), s)).toBe(false);
  });

  test('describeValue shows each part in its unit', () => {
    expect(describeValue(parseCondition('disk(/) free < 5GB and battery < 20% and on battery'), s))
      .toBe('disk(/) free 4GB, battery 18.0%, on battery');
    expect(describeValue(parseCondition('process(nginx).memory > 1MB or process(nginx) running'), s))
      .toBe('process(nginx) memory 200MB, process(nginx) running');
    expect(describeValue(parseCondition('load > 0.5'), s)).toBe('load 1.00');
  });
});
