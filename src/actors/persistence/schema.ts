/**
 * zod schemas of the stored shapes (Job, Run, Slot, schedule state, backup document). Records are
 * checked where they enter the store: the single-record writes (`putJob`, `putRun`, `putSlot`,
 * schedule states: store.ts through checks.ts) and a whole backup document before `restore` touches
 * anything. The hot path's commit batches are not re-checked: their records are built by the
 * scheduler from jobs already checked (issue 7, "validated once where they enter"). A stored Job's spec fields are checked here only for shape (a job stored under older
 * naming or size rules stays readable and updatable); what a new spec must satisfy is the one
 * JobSpec schema, src/model/job-spec.ts, whose policy words this file reuses. Errors are formatted
 * by src/model/zod-error.ts.
 *
 * Each schema is annotated with the model type it checks, so a change to src/model that the schema
 * does not follow fails to compile.
 */
import { z } from 'zod';
import type { BackupDocument } from '../../model';
import type { Command, Job, Limits, TriggerSpec } from '../../model/job';
import { afterOnSchema, catchUpSchema as catchUp, isolationSchema as isolation, overlapSchema as overlap } from '../../model/job-spec';
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
  /**
   * Interval schedules only: the clock offset (sum of the clock steps handled) these instants were
   * computed at; the store shifts them by the steps handled since (clock-frame.ts). Absent: wall-clock time.
   */
  offsetMs?: number;
}

/** A schedule state's instants as epoch ms (NaN: none), as reads compute with them. */
export interface StateInstants {
  /** Watermark (`lastSlotAt`). */
  last: number;
  /** Next slot (`nextRunAt`). */
  next: number;
  /** Anchor (`anchorAt`). */
  anchor: number;
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
  z.object({ type: z.literal('after'), job: nonEmpty, on: afterOnSchema }),
  z.object({ type: z.literal('when'), condition: nonEmpty, cooldownMs: nonNegInt.optional() }),
]);

const runStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'timeout', 'killed', 'interrupted', 'skipped']);
const runTrigger = z.enum(['schedule', 'manual', 'event', 'retry', 'catch-up', 'dependency']);

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
  firstAt: isoInstant.optional(),
  count: z.number().int().positive().optional(),
}).superRefine((s, ctx) => {
  // A range of missed slots (model/run.ts Slot) holds together: both fields or neither, at least
  // two slots, its first before its last — else counts and `why` would say what never happened.
  if (s.firstAt === undefined && s.count === undefined) return;
  const why = s.firstAt === undefined || s.count === undefined ? 'firstAt and count go together (a range of missed slots)'
    : s.outcome !== 'missed' ? 'only a missed slot may be a range (firstAt, count)'
      : s.count < 2 ? 'a range (firstAt, count) stands for at least 2 slots'
        : !(Date.parse(s.firstAt) < Date.parse(s.at)) ? 'a range\'s firstAt must be before its at (its last slot)' : null;
  if (why !== null) ctx.addIssue({ code: 'custom', message: why, path: [s.firstAt === undefined ? 'firstAt' : 'count'] });
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
  offsetMs: z.number().finite().optional(),
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
