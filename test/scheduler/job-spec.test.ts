/** fillJobSpec: the library's JobSpec checked and filled once; here, module isolation. */
import { fillJobSpec } from '../../src/model/job-spec';
import { ValidationError } from '../../src/errors';

const base = { name: 'j', schedule: 'never' };

function refusal(input: unknown): ValidationError {
  try {
    fillJobSpec(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('fillJobSpec isolation', () => {
  it("fills 'thread' for a module job, keeps 'process', and null for a command", () => {
    expect(fillJobSpec({ ...base, module: '/m.js' }).isolation).toBe('thread');
    expect(fillJobSpec({ ...base, module: '/m.js', isolation: 'process' }).isolation).toBe('process');
    expect(fillJobSpec({ ...base, command: 'true' }).isolation).toBeNull();
  });

  it('refuses isolation on a command job and an unknown isolation', () => {
    expect(refusal({ ...base, command: 'true', isolation: 'thread' })).toMatchObject({
      field: 'isolation', message: 'isolation: only applies to module jobs (a command always runs in its own process)',
    });
    expect(refusal({ ...base, module: '/m.js', isolation: 'container' }).field).toBe('isolation');
  });

  it("refuses a CPU limit on a module in a thread, pointing to isolation 'process'", () => {
    const e = refusal({ ...base, module: '/m.js', limits: { maxCpuPercent: 50 } });
    expect(e.field).toBe('limits.maxCpuPercent');
    expect(e.message).toMatch(/isolation 'process'/);
    expect(fillJobSpec({ ...base, module: '/m.js', isolation: 'process', limits: { maxCpuPercent: 50 } }).limits).toEqual({ maxCpuPercent: 50 });
    expect(fillJobSpec({ ...base, module: '/m.js', limits: { maxMemoryBytes: 64 << 20, timeoutMs: 1000 } }).limits)
      .toEqual({ maxMemoryBytes: 64 << 20, timeoutMs: 1000 });
  });
});

describe('the one JobSpec schema', () => {
  it('needs a name, a schedule and exactly one of command / module, naming the field', () => {
    expect(fillJobSpec({ ...base, command: 'true' }).command).toBe('true');
    expect(fillJobSpec({ ...base, module: './m.js' }).module).toBe('./m.js');
    expect(refusal({ ...base })).toMatchObject({ field: 'command' });
    expect(refusal({ ...base, command: 'c', module: 'm' })).toMatchObject({ field: 'module' });
    expect(refusal({ ...base, name: '', command: 'c' })).toMatchObject({ field: 'name', message: 'name: must not be empty' });
    expect(refusal({ ...base, command: { argv: [] } })).toMatchObject({ field: 'command.argv', message: 'command.argv: argv must name a program' });
  });

  it('formats a type error as one line naming the path, with the count of further problems', () => {
    expect(refusal({ ...base, command: 'c', priority: 'high' })).toMatchObject({
      field: 'priority', message: 'priority: expected number, received string',
    });
    expect(refusal('nope')).toMatchObject({ field: 'spec', message: 'spec: expected object, received string' });
    expect(refusal({ name: 7, schedule: 8, command: 'c' }).message).toMatch(/^name: expected string, received number \(and 1 more problem\(s\)\)$/);
  });
});
