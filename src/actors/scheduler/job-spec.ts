/**
 * Validates a JobSpec at the public boundary and fills every default, once (STYLE: "options checked
 * once"). Everything inside the scheduler works on the filled shape and never re-checks.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../../errors';
import type { CatchUpPolicy, Isolation, Job, OverlapPolicy } from '../../model/job';

/** A JobSpec with every default filled in: exactly the user-given fields of a stored Job. */
export type FilledJobSpec = Pick<Job, 'name' | 'schedule' | 'command' | 'module' | 'isolation' | 'timezone' | 'priority' |
  'retry' | 'limits' | 'overlap' | 'catchUp' | 'cwd' | 'env' | 'triggers' | 'jitterMs' | 'enabled'>;

/** Defaults applied to every job. */
export const JOB_DEFAULTS = {
  priority: 0,
  retry: { maxRetries: 0, backoffMs: 1000 },
  overlap: 'skip' as OverlapPolicy,
  catchUp: 'once' as CatchUpPolicy,
  isolation: 'thread' as Isolation,
} as const;

/** Longest job name. */
export const MAX_NAME_LENGTH = 200;
/** What {@link newId} makes for jobs (case-insensitive: `status JOB_...` finds nothing either way). */
const ID_FORM = /^job_[0-9a-z]{22}$/i;

const positiveMs = z.number().int().positive().max(365 * 86_400_000);

const triggerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('watch'), paths: z.array(z.string().min(1)).min(1), debounceMs: z.number().int().min(0).optional() }),
  z.object({ type: z.literal('after'), job: z.string().min(1), on: z.enum(['succeeded', 'failed', 'finished']) }),
  z.object({ type: z.literal('when'), condition: z.string().min(1), cooldownMs: z.number().int().min(0).optional() }),
]);

const specSchema = z.object({
  name: z.string().trim().min(1, 'must not be empty')
    .max(MAX_NAME_LENGTH, `is longer than ${MAX_NAME_LENGTH} characters`)
    .regex(/^[^\s/]+$/, 'must not contain spaces or slashes')
    // JOB is an id or a name: a name shaped like an id would make one of the two jobs unreachable.
    .refine((n) => !ID_FORM.test(n), 'must not have the form of a job id (job_ followed by 22 letters and digits)'),
  schedule: z.string().trim().min(1, 'must not be empty'),
  command: z.union([
    z.string().trim().min(1, 'must not be empty'),
    z.object({ argv: z.array(z.string()).min(1, 'argv must name a program') }).strict(),
  ]).optional(),
  module: z.string().min(1).optional(),
  isolation: z.enum(['process', 'thread']).optional(),
  timezone: z.string().min(1).nullable().optional(),
  priority: z.number().int().min(-1000).max(1000).optional(),
  retry: z.object({
    maxRetries: z.number().int().min(0).max(100).optional(),
    backoffMs: positiveMs.optional(),
  }).strict().optional(),
  limits: z.object({
    timeoutMs: positiveMs.optional(),
    maxMemoryBytes: z.number().int().positive().optional(),
    maxCpuPercent: z.number().positive().max(100 * 256).optional(),
  }).strict().optional(),
  overlap: z.enum(['skip', 'queue', 'allow', 'replace']).optional(),
  catchUp: z.enum(['none', 'once', 'all']).optional(),
  cwd: z.string().min(1).nullable().optional(),
  env: z.record(z.string(), z.string()).optional(),
  triggers: z.array(triggerSchema).optional(),
  jitterMs: z.number().int().min(0).max(86_400_000).optional(),
  enabled: z.boolean().optional(),
}).strict();

/** Formats the first zod issue as one line naming the field. */
export function zodMessage(err: z.ZodError, root = ''): { message: string; field: string } {
  const issue = err.issues[0]!;
  const field = [root, ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))]
    .filter((s) => s !== '').join('.').replace(/\.\[/g, '[');
  return { message: `${field || 'spec'}: ${issue.message}`, field: field || 'spec' };
}

/**
 * Checks a JobSpec and fills its defaults.
 * @throws ValidationError naming the offending field.
 */
export function fillJobSpec(input: unknown): FilledJobSpec {
  const parsed = specSchema.safeParse(input);
  if (!parsed.success) {
    const { message, field } = zodMessage(parsed.error);
    throw new ValidationError(message, field);
  }
  const s = parsed.data;
  if (s.command === undefined && s.module === undefined) {
    throw new ValidationError('command: a job needs a command or a module', 'command');
  }
  if (s.command !== undefined && s.module !== undefined) {
    throw new ValidationError('module: give either a command or a module, not both', 'module');
  }
  if (s.isolation !== undefined && s.module === undefined) {
    throw new ValidationError("isolation: only applies to module jobs (a command always runs in its own process)", 'isolation');
  }
  const isolation = s.module === undefined ? null : s.isolation ?? JOB_DEFAULTS.isolation;
  if (isolation === 'thread' && s.limits?.maxCpuPercent !== undefined) {
    // A thread's CPU time cannot be capped, and killing it for a sampled percentage would take the
    // process's sampling with it; a process can be (docs/jobs.md "Thread or process").
    throw new ValidationError(
      "limits.maxCpuPercent: a module running in a thread cannot have a CPU limit; use isolation 'process' for it",
      'limits.maxCpuPercent',
    );
  }
  return {
    name: s.name.trim(),
    schedule: s.schedule.trim(),
    command: s.command ?? null,
    module: s.module ?? null,
    isolation,
    timezone: s.timezone ?? null,
    priority: s.priority ?? JOB_DEFAULTS.priority,
    retry: {
      maxRetries: s.retry?.maxRetries ?? JOB_DEFAULTS.retry.maxRetries,
      backoffMs: s.retry?.backoffMs ?? JOB_DEFAULTS.retry.backoffMs,
    },
    limits: { ...(s.limits ?? {}) },
    overlap: s.overlap ?? JOB_DEFAULTS.overlap,
    catchUp: s.catchUp ?? JOB_DEFAULTS.catchUp,
    cwd: s.cwd ?? null,
    env: { ...(s.env ?? {}) },
    triggers: s.triggers ?? [],
    jitterMs: s.jitterMs ?? 0,
    enabled: s.enabled ?? true,
  };
}

/**
 * A job whose module or working directory does not exist would fail on every run: refuse it when
 * it is added instead. (Relative module paths resolve against `cwd`, as the executor does.)
 * @throws ValidationError naming `module` or `cwd`.
 */
export function checkPaths(spec: FilledJobSpec): void {
  const isA = (p: string, kind: 'file' | 'dir'): boolean => {
    try {
      const st = statSync(p);
      return kind === 'file' ? st.isFile() : st.isDirectory();
    } catch {
      return false;
    }
  };
  if (spec.cwd !== null && !isA(spec.cwd, 'dir')) throw new ValidationError(`cwd: '${spec.cwd}' is not a directory`, 'cwd');
  if (spec.module !== null) {
    const file = path.resolve(spec.cwd ?? process.cwd(), spec.module);
    if (!isA(file, 'file')) throw new ValidationError(`module: '${spec.module}' is not a file`, 'module');
  }
}
