/** `add` arguments and options → JobSpec. */
import { buildJobSpec, parsePositiveInt } from '../../src/cli/job-spec';
import { SchedulerError, ValidationError } from '../../src/errors';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SchedulerError);
    expect((e as SchedulerError).code).toBe('VALIDATION');
    return (e as ValidationError).field;
  }
  throw new Error('expected a ValidationError');
}

describe('buildJobSpec', () => {
  it('maps a shell command and every option onto the spec', () => {
    const spec = buildJobSpec({ name: 'b', schedule: 'every 5m', command: 'echo hi | wc' }, {
      tz: 'Europe/Paris', priority: '-3', retries: '2', backoff: '30s', timeout: '1m', maxMemory: '256MB', maxCpu: '50%',
      overlap: 'queue', catchUp: 'none', cwd: 'sub', env: ['A=1', 'B=x=y'], watch: ['in', '/abs'], when: 'cpu > 80%',
      cooldown: '5m', after: ['build', 'test:failed', 'a:b:finished'], jitter: '500ms', disabled: true,
    }, '/home/u');
    expect(spec).toEqual({
      name: 'b', schedule: 'every 5m', command: 'echo hi | wc', timezone: 'Europe/Paris', priority: -3,
      retry: { maxRetries: 2, backoffMs: 30_000 },
      limits: { timeoutMs: 60_000, maxMemoryBytes: 256 * 1024 * 1024, maxCpuPercent: 50 },
      overlap: 'queue', catchUp: 'none', cwd: '/home/u/sub', env: { A: '1', B: 'x=y' }, jitterMs: 500, enabled: false,
      triggers: [
        { type: 'watch', paths: ['/home/u/in', '/abs'] },
        { type: 'when', condition: 'cpu > 80%', cooldownMs: 300_000 },
        { type: 'after', job: 'build', on: 'succeeded' },
        { type: 'after', job: 'test', on: 'failed' },
        { type: 'after', job: 'a:b', on: 'finished' },
      ],
    });
  });

  it('keeps a bare spec bare, so the scheduler fills its own defaults', () => {
    expect(buildJobSpec({ name: 'n', schedule: 'never', command: 'true' }, {})).toEqual({ name: 'n', schedule: 'never', command: 'true' });
  });

  it('takes an argv command and a module path made absolute', () => {
    expect(buildJobSpec({ name: 'n', schedule: 'never', argv: ['ls', '-l', 'a b'] }, {}).command).toEqual({ argv: ['ls', '-l', 'a b'] });
    const mod = buildJobSpec({ name: 'n', schedule: 'never' }, { module: 'jobs/x.js' }, '/w');
    expect(mod).toEqual({ name: 'n', schedule: 'never', module: '/w/jobs/x.js' });
  });

  it('names the offending argument or option', () => {
    const base = { name: 'n', schedule: 'never', command: 'true' };
    expect(fieldOf(() => buildJobSpec({ name: 'n', schedule: 'never' }, {}))).toBe('COMMAND');
    expect(fieldOf(() => buildJobSpec({ ...base, argv: ['x'] }, {}))).toBe('COMMAND');
    expect(fieldOf(() => buildJobSpec(base, { module: 'm.js' }))).toBe('COMMAND');
    expect(fieldOf(() => buildJobSpec({ name: 'n', schedule: 'never', argv: [] }, {}))).toBe('COMMAND');
    expect(fieldOf(() => buildJobSpec({ ...base, name: ' ' }, {}))).toBe('NAME');
    expect(fieldOf(() => buildJobSpec(base, { timeout: 'soon' }))).toBe('--timeout');
    expect(fieldOf(() => buildJobSpec(base, { timeout: '0s' }))).toBe('--timeout');
    expect(fieldOf(() => buildJobSpec(base, { backoff: '5' }))).toBe('--backoff');
    expect(fieldOf(() => buildJobSpec(base, { maxMemory: 'lots' }))).toBe('--max-memory');
    expect(fieldOf(() => buildJobSpec(base, { maxCpu: '0' }))).toBe('--max-cpu');
    expect(fieldOf(() => buildJobSpec(base, { retries: '-1' }))).toBe('--retries');
    expect(fieldOf(() => buildJobSpec(base, { priority: '1.5' }))).toBe('--priority');
    expect(fieldOf(() => buildJobSpec(base, { env: ['NOEQUALS'] }))).toBe('--env');
    expect(fieldOf(() => buildJobSpec(base, { env: ['1X=2'] }))).toBe('--env');
    expect(fieldOf(() => buildJobSpec(base, { cooldown: '5m' }))).toBe('--cooldown');
    expect(fieldOf(() => buildJobSpec(base, { after: [':failed'] }))).toBe('--after');
    expect(fieldOf(() => buildJobSpec(base, { jitter: 'x' }))).toBe('--jitter');
  });
});

describe('parsePositiveInt', () => {
  it('accepts whole numbers >= 1 only', () => {
    expect(parsePositiveInt('7', '--limit')).toBe(7);
    for (const bad of ['0', '-1', '1.5', 'ten', '']) expect(fieldOf(() => parsePositiveInt(bad, '--limit'))).toBe('--limit');
  });
});

describe('buildJobSpec --isolation', () => {
  it('passes --isolation of a --module job through, and leaves it out when not given', () => {
    expect(buildJobSpec({ name: 'm', schedule: 'never' }, { module: 'job.js', isolation: 'process' }, '/w'))
      .toEqual({ name: 'm', schedule: 'never', module: '/w/job.js', isolation: 'process' });
    expect(buildJobSpec({ name: 'm', schedule: 'never' }, { module: '/j.js' })).toEqual({ name: 'm', schedule: 'never', module: '/j.js' });
  });

  it('refuses --isolation on a command job, naming the flag', () => {
    expect(fieldOf(() => buildJobSpec({ name: 'c', schedule: 'never', command: 'true' }, { isolation: 'thread' }))).toBe('--isolation');
    expect(() => buildJobSpec({ name: 'c', schedule: 'never', argv: ['true'] }, { isolation: 'process' }))
      .toThrow('--isolation: only applies to --module jobs (a command always runs in its own process)');
  });

  it('refuses --max-cpu on a module in a thread (the default) and points to --isolation process', () => {
    expect(() => buildJobSpec({ name: 'm', schedule: 'never' }, { module: '/j.js', maxCpu: '50' }))
      .toThrow(/^--max-cpu: .*thread.*--isolation process$/);
    expect(fieldOf(() => buildJobSpec({ name: 'm', schedule: 'never' }, { module: '/j.js', maxCpu: '50', isolation: 'thread' }))).toBe('--max-cpu');
    expect(buildJobSpec({ name: 'm', schedule: 'never' }, { module: '/j.js', maxCpu: '50', isolation: 'process' }).limits)
      .toEqual({ maxCpuPercent: 50 });
  });
});
