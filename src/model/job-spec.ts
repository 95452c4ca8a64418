/**
 * The one JobSpec schema (zod): what `addJob` and `restore` accept and, converted to JSON Schema, what
 * the HTTP API validates and publishes in its OpenAPI document. The store's Job schema
 * (src/actors/persistence/schema.ts) takes its policy words from here; the CLI's `add` builds a
 * JobSpec that this schema then checks (src/cli/job-spec.ts only parses flags).
 *
 * Not re-exported from src/model/index.ts: importing it loads zod (50-250 ms), which commands that
 * only read must not pay.
 */
import { z } from 'zod';
import { ValidationError } from '../errors';
import { CATCH_UP_POLICIES, OVERLAP_POLICIES, type CatchUpPolicy, type Isolation, type Job, type OverlapPolicy } from './job';
import { parseOrThrow } from './zod-error';

/** A JobSpec with every default filled in: exactly the user-given fields of a stored Job. */
export type FilledJobSpec = Pick<Job, 'name' | 'schedule' | 'command' | 'module' | 'isolation' | 'timezone' | 'priority' |
  'retry' | 'limits' | 'overlap' | 'catchUp' | 'cwd' | 'env' | 'triggers' | 'jitterMs' | 'enabled'> &
  { inheritEnv: boolean | string[] };

/** The fields of a stored Job that came from its spec (what {@link checkStoredJob} re-validates). */
export const SPEC_FIELDS = ['name', 'schedule', 'command', 'module', 'isolation', 'timezone', 'priority', 'retry', 'limits',
  'overlap', 'catchUp', 'cwd', 'env', 'inheritEnv', 'triggers', 'jitterMs', 'enabled'] as const;

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

/** No C0/C1 control characters (ESC sequences, \x01 ...): names are printed into terminals. */
const NO_CONTROL = /^[^\p{Cc}]*$/u;
/** Job names: printable, no spaces or slashes. */
const nameSchema = z.string().trim().min(1, 'must not be empty')
  .max(MAX_NAME_LENGTH, `is longer than ${MAX_NAME_LENGTH} characters`)
  .regex(NO_CONTROL, 'must not contain control characters')
  .regex(/^[^\s/]+$/, 'must not contain spaces or slashes')
  // JOB is an id or a name: a name shaped like an id would make one of the two jobs unreachable.
  .refine((n) => !ID_FORM.test(n), 'must not have the form of a job id (job_ followed by 22 letters and digits)');
/** An environment variable name: what execve accepts (no '=', no NUL, not empty). */
const envName = z.string().min(1, 'environment variable names must not be empty').max(1024)
  .regex(/^[^=\0]+$/, "environment variable names must not contain '=' or NUL");
const envValue = z.string().regex(/^[^\0]*$/, 'environment values must not contain NUL');

/** The policy and isolation words, shared with the store's Job schema. */
export const overlapSchema = z.enum(OVERLAP_POLICIES);
export const catchUpSchema = z.enum(CATCH_UP_POLICIES);
export const isolationSchema = z.enum(['process', 'thread']);
/** What an `after` trigger waits for. */
export const afterOnSchema = z.enum(['succeeded', 'failed', 'finished']);

const triggerSpecSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('watch'), paths: z.array(z.string().min(1)).min(1), debounceMs: z.number().int().min(0).optional() }),
  z.object({ type: z.literal('after'), job: nameSchema, on: afterOnSchema }),
  z.object({ type: z.literal('when'), condition: z.string().min(1), cooldownMs: z.number().int().min(0).optional() }),
]);

/**
 * Size bounds of a spec (issue 9 item 10): a job spec is small; a runaway client must not store 50 MB
 * that every run then copies. 64 KiB per string stays under Linux's 128 KiB per-argument limit.
 */
export const SPEC_BOUNDS = { text: 65_536, argv: 1024, envEntries: 1024, envKey: 256 } as const;

/**
 * The JobSpec's schema: what `addJob` and `restore` accept, and (converted to JSON Schema) what the
 * HTTP API validates and publishes in its OpenAPI document — one schema for every door.
 */
export const jobSpecSchema = z.object({
  name: nameSchema.meta({ description: 'must not contain spaces, slashes or control characters' }),
  schedule: z.string().trim().min(1, 'must not be empty').max(1000),
  command: z.union([
    z.string().trim().min(1, 'must not be empty').max(SPEC_BOUNDS.text),
    z.object({
      argv: z.array(z.string().max(SPEC_BOUNDS.text)).min(1, 'argv must name a program').max(SPEC_BOUNDS.argv),
    }).strict(),
  ]).optional(),
  module: z.string().min(1).max(4096).optional(),
  isolation: isolationSchema.optional(),
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
  overlap: overlapSchema.optional(),
  catchUp: catchUpSchema.optional(),
  cwd: z.string().min(1).max(4096).nullable().optional(),
  env: z.record(envName.max(SPEC_BOUNDS.envKey), envValue.max(SPEC_BOUNDS.text)).optional()
    .refine((e) => e === undefined || Object.keys(e).length <= SPEC_BOUNDS.envEntries, `at most ${SPEC_BOUNDS.envEntries} variables`),
  inheritEnv: z.union([z.boolean(), z.array(envName).max(1000)]).optional(),
  triggers: z.array(triggerSpecSchema).max(64).optional(),
  jitterMs: z.number().int().min(0).max(86_400_000).optional(),
  enabled: z.boolean().optional(),
}).strict();

/**
 * Checks a JobSpec and fills its defaults.
 * @throws ValidationError naming the offending field.
 */
export function fillJobSpec(input: unknown): FilledJobSpec {
  const s = parseOrThrow(jobSpecSchema, input, '', 'spec');
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
    inheritEnv: s.inheritEnv ?? false,
    triggers: s.triggers ?? [],
    jitterMs: s.jitterMs ?? 0,
    enabled: s.enabled ?? true,
  };
}

/**
 * Checks the user-given fields of a stored job (from a backup being restored) with exactly the
 * rules `addJob` applies, so both doors accept the same jobs (issue 9 item 9). Stored nulls mean
 * "not given"; `root` prefixes the field in the error (`jobs[3]`).
 * @throws ValidationError naming the offending field.
 */
export function checkStoredJob(job: Record<string, unknown>, root: string): void {
  const spec: Record<string, unknown> = {};
  for (const key of SPEC_FIELDS) {
    const v = job[key];
    if (v === null && key !== 'timezone' && key !== 'cwd') continue;
    if (v !== undefined) spec[key] = v;
  }
  try {
    fillJobSpec(spec);
  } catch (err) {
    if (err instanceof ValidationError) {
      const field = `${root}.${err.field ?? 'spec'}`;
      throw new ValidationError(`${root}.${err.message}`, field);
    }
    throw err;
  }
}
