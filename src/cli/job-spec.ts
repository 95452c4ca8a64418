/** Turns `rae-sched add` arguments and options into a JobSpec (pure: no I/O, unit-tested alone). */
import { isAbsolute, resolve } from 'node:path';
import { ValidationError } from '../errors';
import { parseDuration, parseSize } from '../model/duration';
import type { CatchUpPolicy, Command, Isolation, JobSpec, OverlapPolicy, TriggerSpec } from '../model/job';

/** The options of `add`, as commander hands them over (strings, repeatables as arrays). */
export interface AddOptions {
  tz?: string;
  priority?: string;
  retries?: string;
  backoff?: string;
  timeout?: string;
  maxMemory?: string;
  maxCpu?: string;
  overlap?: OverlapPolicy;
  catchUp?: CatchUpPolicy;
  cwd?: string;
  env?: string[];
  watch?: string[];
  when?: string;
  cooldown?: string;
  after?: string[];
  jitter?: string;
  module?: string;
  isolation?: Isolation;
  disabled?: boolean;
}

/** The positional parts of `add NAME SCHEDULE COMMAND` / `add NAME SCHEDULE -- PROG ARG...`. */
export interface AddArgs {
  name: string;
  schedule: string;
  /** One shell-command string. */
  command?: string;
  /** Everything after `--`: an argv command run without a shell. */
  argv?: string[];
}

/**
 * Builds the JobSpec of `add`. Paths (`--cwd`, `--watch`, `--module`) are made absolute against
 * `cwd`, the caller's directory, because the daemon that runs the job has its own.
 * @throws ValidationError naming the offending argument or option.
 */
export function buildJobSpec(args: AddArgs, opts: AddOptions, cwd: string = process.cwd()): JobSpec {
  const spec: JobSpec = { name: args.name, schedule: args.schedule };
  if (args.name.trim() === '') throw new ValidationError('NAME: must not be empty', 'NAME');
  if (args.schedule.trim() === '') throw new ValidationError('SCHEDULE: must not be empty', 'SCHEDULE');

  const command = chooseCommand(args, opts);
  if (command !== undefined) spec.command = command;
  if (opts.module !== undefined) spec.module = absolute(opts.module, cwd);
  if (opts.isolation !== undefined) {
    if (opts.module === undefined) {
      throw new ValidationError('--isolation: only applies to --module jobs (a command always runs in its own process)', '--isolation');
    }
    spec.isolation = opts.isolation;
  }
  if (opts.module !== undefined && opts.maxCpu !== undefined && (opts.isolation ?? 'thread') === 'thread') {
    throw new ValidationError(
      "--max-cpu: a module running in a thread (the default) cannot have a CPU limit; add --isolation process", '--max-cpu');
  }
  if (opts.tz !== undefined) spec.timezone = opts.tz;
  if (opts.priority !== undefined) spec.priority = parseInteger(opts.priority, '--priority', false);

  if (opts.retries !== undefined || opts.backoff !== undefined) {
    spec.retry = {};
    if (opts.retries !== undefined) spec.retry.maxRetries = parseInteger(opts.retries, '--retries', true);
    if (opts.backoff !== undefined) spec.retry.backoffMs = parseDuration(opts.backoff, '--backoff');
  }

  const limits: NonNullable<JobSpec['limits']> = {};
  if (opts.timeout !== undefined) limits.timeoutMs = positive(parseDuration(opts.timeout, '--timeout'), '--timeout');
  if (opts.maxMemory !== undefined) limits.maxMemoryBytes = positive(parseSize(opts.maxMemory, '--max-memory'), '--max-memory');
  if (opts.maxCpu !== undefined) limits.maxCpuPercent = parsePercent(opts.maxCpu);
  if (Object.keys(limits).length > 0) spec.limits = limits;

  if (opts.overlap !== undefined) spec.overlap = opts.overlap;
  if (opts.catchUp !== undefined) spec.catchUp = opts.catchUp;
  if (opts.cwd !== undefined) spec.cwd = absolute(opts.cwd, cwd);
  if (opts.env !== undefined && opts.env.length > 0) spec.env = parseEnv(opts.env);
  if (opts.jitter !== undefined) spec.jitterMs = parseDuration(opts.jitter, '--jitter');
  if (opts.disabled === true) spec.enabled = false;

  const triggers = buildTriggers(opts, cwd);
  if (triggers.length > 0) spec.triggers = triggers;
  return spec;
}

function chooseCommand(args: AddArgs, opts: AddOptions): Command | undefined {
  const given = [args.command !== undefined, args.argv !== undefined, opts.module !== undefined].filter(Boolean).length;
  if (given === 0) {
    throw new ValidationError('COMMAND: missing; give a command string, `-- PROG ARG...`, or --module FILE', 'COMMAND');
  }
  if (given > 1) {
    throw new ValidationError('COMMAND: give only one of a command string, `-- PROG ARG...`, or --module FILE', 'COMMAND');
  }
  if (args.argv !== undefined) {
    if (args.argv.length === 0) throw new ValidationError('COMMAND: `--` must be followed by PROG [ARG...]', 'COMMAND');
    return { argv: args.argv };
  }
  if (args.command !== undefined && args.command.trim() === '') {
    throw new ValidationError('COMMAND: must not be empty', 'COMMAND');
  }
  return args.command;
}

function buildTriggers(opts: AddOptions, cwd: string): TriggerSpec[] {
  const triggers: TriggerSpec[] = [];
  if (opts.watch !== undefined && opts.watch.length > 0) {
    triggers.push({ type: 'watch', paths: opts.watch.map((p) => absolute(p, cwd)) });
  }
  if (opts.cooldown !== undefined && opts.when === undefined) {
    throw new ValidationError('--cooldown: only applies with --when CONDITION', '--cooldown');
  }
  if (opts.when !== undefined) {
    if (opts.when.trim() === '') throw new ValidationError('--when: the condition must not be empty', '--when');
    const when: TriggerSpec = { type: 'when', condition: opts.when };
    if (opts.cooldown !== undefined) when.cooldownMs = parseDuration(opts.cooldown, '--cooldown');
    triggers.push(when);
  }
  for (const a of opts.after ?? []) triggers.push(parseAfter(a));
  return triggers;
}

/** `JOB`, `JOB:failed`, `JOB:finished` (or explicit `JOB:succeeded`); a name may itself hold ':'. */
function parseAfter(text: string): TriggerSpec {
  const m = /^(.*):(succeeded|failed|finished)$/.exec(text);
  const job = m ? m[1]! : text;
  if (job.trim() === '') throw new ValidationError(`--after: '${text}' names no job (use JOB, JOB:failed or JOB:finished)`, '--after');
  const on = (m ? m[2] : 'succeeded') as 'succeeded' | 'failed' | 'finished';
  return { type: 'after', job, on };
}

function parseEnv(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq) : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new ValidationError(`--env: '${pair}' is not K=V with K a variable name`, '--env');
    }
    env[key] = pair.slice(eq + 1);
  }
  return env;
}

function parseInteger(text: string, field: string, nonNegative: boolean): number {
  const ok = nonNegative ? /^\d+$/ : /^-?\d+$/;
  const n = Number(text.trim());
  if (!ok.test(text.trim()) || !Number.isSafeInteger(n)) {
    throw new ValidationError(`${field}: '${text}' is not ${nonNegative ? 'a whole number >= 0' : 'a whole number'}`, field);
  }
  return n;
}

function parsePercent(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!(n > 0)) throw new ValidationError(`--max-cpu: '${text}' is not a percentage > 0 (e.g. 50 or 150%)`, '--max-cpu');
  return n;
}

function positive(n: number, field: string): number {
  if (n <= 0) throw new ValidationError(`${field}: must be greater than zero`, field);
  return n;
}

function absolute(p: string, cwd: string): string {
  return isAbsolute(p) ? p : resolve(cwd, p);
}

/** Parses `--limit` / `--count` style positive integers. */
export function parsePositiveInt(text: string, field: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new ValidationError(`${field}: '${text}' is not a whole number >= 1`, field);
  }
  return n;
}
