/**
 * zod schemas of the stored shapes (Job, Run, Slot, schedule state, backup document) and of the
 * `addJob` input (JobSpec). The store validates a whole backup document with them before `restore`
 * touches anything; the scheduler can reuse them to check input at the API boundary.
 *
 * Each schema is annotated with the model type it checks, so a change to src/model that the schema
 * does not follow fails to compile.
 */
import { z } from 'zod';
import { ValidationError } from '../../errors';
import type { BackupDocument } from '../../api';
import type { Command, Job, JobSpec, Limits, TriggerSpec } from '../../model/job';
import type { Run, Slot } from '../../model/run';

/** What the queue needs to resume a job's timeline after a restart. */
export interface ScheduleState {
  jobId: string;
  /** Nominal time of the newest slot handled (fired, skipped, missed ...). */
  lastSlotAt: string | null;
  /** The next slot the queue has armed. */
  nextRunAt: string | null;
  /** Reference instant of interval schedules (`every 5 minutes` counts from here). */
  anchorAt: string | null;
}

/**
 * An ISO-8601 UTC instant as `Date.prototype.toISOString()` writes it. Slot times are part of store
 * keys and sort lexically, so they must be in this one canonical form.
 */
export const isoInstant = z.iso.datetime({ message: 'expected an ISO-8601 UTC time like 2026-01-01T09:00:00.000Z' });
const nonEmpty = z.string().min(1, { message: 'must not be empty' });
const nonNegInt = z.number().int().nonnegative();
const nullableInstant = isoInstant.nullable();

/** Command: one shell string, or an argv run without a shell. */
export const commandSchema: z.ZodType<Command> = z.union([
  nonEmpty,
  z.object({ argv: z.array(z.string()).min(1, { message: 'argv must hold at least the program' }) }),
]);

/** Resource limits. */
export const limitsSchema: z.ZodType<Limits> = z.object({
  timeoutMs: z.number().int().positive().optional(),
  maxMemoryBytes: z.number().int().positive().optional(),
  maxCpuPercent: z.number().positive().optional(),
});

/** Event triggers attached to a job. */
export const triggerSchema: z.ZodType<TriggerSpec> = z.discriminatedUnion('type', [
  z.object({ type: z.literal('watch'), paths: z.array(nonEmpty).min(1), debounceMs: nonNegInt.optional() }),
  z.object({ type: z.literal('after'), job: nonEmpty, on: z.enum(['succeeded', 'failed', 'finished']) }),
  z.object({ type: z.literal('when'), condition: nonEmpty, cooldownMs: nonNegInt.optional() }),
]);

const runStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'timeout', 'killed', 'interrupted', 'skipped']);
const runTrigger = z.enum(['schedule', 'manual', 'event', 'retry', 'catch-up', 'dependency']);
const overlap = z.enum(['skip', 'queue', 'allow', 'replace']);
const catchUp = z.enum(['none', 'once', 'all']);
const isolation = z.enum(['process', 'thread']);

/** A stored run (CONTRACT.md "Run (JSON)"). */
export const runSchema: z.ZodType<Run> = z.object({
  id: nonEmpty,
  jobId: nonEmpty,
  attempt: z.number().int().min(1),
  trigger: runTrigger,
  status: runStatus,
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  scheduledAt: isoInstant,
  startedAt: nullableInstant,
  finishedAt: nullableInstant,
  durationMs: z.number().nonnegative().nullable(),
  peakMemoryBytes: z.number().nonnegative().nullable(),
  error: z.string().nullable(),
  output: z.string(),
});

/** The durable record of one slot. */
export const slotSchema: z.ZodType<Slot> = z.object({
  jobId: nonEmpty,
  at: isoInstant,
  outcome: z.enum(['fired', 'skipped', 'missed', 'deduped', 'caught-up']),
  runId: z.string().nullable(),
  reason: z.string().nullable(),
  recordedAt: isoInstant,
});

/** A stored job (CONTRACT.md "Job (JSON)"). */
export const jobSchema: z.ZodType<Job> = z.object({
  id: nonEmpty,
  name: nonEmpty,
  schedule: nonEmpty,
  /** Absent in jobs stored before it existed. */
  scheduleText: z.string().max(1000).nullable().optional(),
  timezone: z.string().nullable(),
  command: commandSchema.nullable(),
  module: z.string().nullable(),
  isolation: isolation.nullable().optional(),
  enabled: z.boolean(),
  priority: z.number().int(),
  retry: z.object({ maxRetries: nonNegInt, backoffMs: nonNegInt }),
  limits: limitsSchema,
  overlap,
  catchUp,
  cwd: z.string().nullable(),
  env: z.record(z.string(), z.string()),
  inheritEnv: z.union([z.boolean(), z.array(z.string())]).optional(),
  triggers: z.array(triggerSchema),
  jitterMs: nonNegInt,
  createdAt: isoInstant,
  updatedAt: isoInstant,
  completedAt: nullableInstant,
  nextRunAt: nullableInstant,
  lastRun: runSchema.nullable(),
  state: z.enum(['scheduled', 'paused', 'done', 'waiting']),
});

/** Schedule state of one job. */
export const scheduleStateSchema: z.ZodType<ScheduleState> = z.object({
  jobId: nonEmpty,
  lastSlotAt: nullableInstant,
  nextRunAt: nullableInstant,
  anchorAt: nullableInstant,
});

/** Input of `addJob`: only name, schedule and one of command / module are required. */
export const jobSpecSchema: z.ZodType<JobSpec> = z
  .object({
    name: nonEmpty,
    schedule: nonEmpty,
    command: commandSchema.optional(),
    module: nonEmpty.optional(),
    isolation: isolation.optional(),
    timezone: z.string().nullable().optional(),
    priority: z.number().int().optional(),
    retry: z.object({ maxRetries: nonNegInt.optional(), backoffMs: nonNegInt.optional() }).optional(),
    limits: limitsSchema.optional(),
    overlap: overlap.optional(),
    catchUp: catchUp.optional(),
    cwd: nonEmpty.optional(),
    env: z.record(z.string(), z.string()).optional(),
    inheritEnv: z.union([z.boolean(), z.array(z.string())]).optional(),
    triggers: z.array(triggerSchema).optional(),
    jitterMs: nonNegInt.optional(),
    enabled: z.boolean().optional(),
  })
  .superRefine((spec, ctx) => {
    if ((spec.command === undefined) === (spec.module === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['command'], message: 'give exactly one of command or module' });
    }
  });

/** A whole-store export (`rae-sched backup`). */
export const backupDocumentSchema: z.ZodType<BackupDocument> = z.object({
  format: z.literal('rae-sched-backup'),
  version: z.literal(1),
  createdAt: isoInstant,
  jobs: z.array(jobSchema),
  runs: z.array(runSchema),
  slots: z.array(slotSchema),
});

/** Formats a zod issue path the way people write it: `jobs[3].retry.maxRetries`. */
export function formatPath(path: readonly PropertyKey[], root = ''): string {
  let out = root;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Checks `value` against `schema` and returns it typed, or throws ONE ValidationError naming the
 * first bad path and what is wrong (`jobs[3].schedule: expected string, received number`).
 * `root` prefixes the path (e.g. `'job'` → `job.retry.maxRetries`).
 * @throws ValidationError with `field` set to the bad path.
 * @example
 * const spec = parseOrThrow(jobSpecSchema, input, 'spec');
 */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, root = ''): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = formatPath(issue.path, root);
  // zod prefixes type errors with "Invalid input: "; the path already says where, keep only what.
  const what = issue.message.replace(/^Invalid input: /, '');
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problem(s))` : '';
  throw new ValidationError(`${where}: ${what}${more}`, where);
}
