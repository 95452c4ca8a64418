/**
 * The HTTP API's shapes, each defined once as a zod schema and converted to JSON Schema (2020-12) for
 * two uses: fastify validates requests with it (ajv), and the OpenAPI document publishes it. Request
 * bodies reuse the scheduler's own schemas (the JobSpec is `jobSpecInputSchema`, the one `addJob`
 * checks), responses reuse the store's (Job, Run, Slot), so the document cannot drift from the code.
 */
import { z } from 'zod';
import { jobSpecInputSchema } from '../actors/scheduler/job-spec';
import { jobSchema, runSchema, slotSchema, triggerSchema } from '../actors/persistence/schema';
import { MAX_PAGE } from '../reads/cursor';

/** A JSON Schema object as handed to fastify and written into the OpenAPI document. */
export type JsonSchema = Record<string, unknown>;

/**
 * JSON Schema of a zod schema. `io: 'input'` describes what is accepted (strict objects stay
 * closed with `additionalProperties: false`; plain objects stay open, so a response gaining a field
 * does not break a client). Refinements that JSON Schema cannot express stay in zod (the scheduler
 * still runs them).
 */
export function jsonSchema(schema: z.ZodType): JsonSchema {
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  delete out.$schema;
  return out;
}

const count = z.number().int().nonnegative();
const nullableNumber = z.number().nullable();

/** Result of `GET /v1/health`. */
export const healthSchema = z.object({
  healthy: z.boolean(),
  components: z.record(z.string(), z.object({
    healthy: z.boolean(), degraded: z.boolean().optional(), detail: z.string().optional(), restarts: count.optional(),
  })),
}).meta({ title: 'Health' });

/** Result of `GET /v1/stats`. */
export const statsSchema = z.object({
  jobs: z.object({ total: count, enabled: count, paused: count, done: count }),
  runs: z.object({
    total: count, succeeded: count, failed: count, timeout: count, killed: count, interrupted: count,
    skipped: count, successRate: nullableNumber,
  }),
  durationMs: z.object({ p50: nullableNumber, p90: nullableNumber, p99: nullableNumber, max: nullableNumber }),
  queue: z.object({ depth: count, running: count, scheduled: count }),
  restarts: z.record(z.string(), count),
  uptimeMs: z.number().nonnegative(),
}).meta({ title: 'Stats' });

/** One trigger of a job and what its fires caused (`why`'s `triggers`, `getJob`'s `triggerStatus`). */
export const triggerStatusSchema = z.object({
  index: z.number().int().nonnegative().nullable().meta({ description: "index in the job's triggers; null for @reboot" }),
  trigger: triggerSchema.nullable(),
  text: z.string(),
  lastFiredAt: z.string().nullable(),
  lastReason: z.string().nullable(),
  lastRunId: z.string().nullable(),
  fires: count,
  runs: count,
  skipped: count,
  recentRunIds: z.array(z.string()).meta({ description: 'newest first, at most 5' }),
  upstreamExists: z.boolean().optional().meta({ description: '--after triggers: false when the upstream job no longer exists' }),
}).meta({ title: 'TriggerStatus' });

/** Result of `GET /v1/jobs/{job}/why`. */
export const whySchema = z.object({
  job: jobSchema,
  slots: z.array(slotSchema),
  nextRunAt: z.string().nullable(),
  blockers: z.array(z.string()),
  triggers: z.array(triggerStatusSchema),
}).meta({ title: 'WhyReport' });

/** `{"error": {...}}`: every error answer. `field` names the bad input when there is one. */
export const errorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
    name: z.string().optional(),
  }),
}).meta({ title: 'Error' });

/** A page of a list: at most `limit` items after the cursor `after` (the last id of the previous page). */
export const pageQuerySchema = z.strictObject({
  limit: z.number().int().min(1).max(MAX_PAGE).optional()
    .meta({ description: `items per page (default 100 for jobs, 20 for runs; at most ${MAX_PAGE})` }),
  after: z.string().min(1).max(400).optional()
    .meta({ description: 'cursor from the previous page\'s Link: rel="next" (jobs: an opaque cursor; runs: the last run id)' }),
});

/** `GET /v1/jobs` query: a page, optionally filtered. */
export const jobListQuerySchema = pageQuerySchema.extend({
  q: z.string().max(200).optional().meta({ description: 'case-insensitive text found in the name, schedule or command' }),
  state: z.enum(['scheduled', 'paused', 'done', 'waiting']).optional(),
});

/** `GET /v1/jobs/{job}/history` query. */
export const historyQuerySchema = pageQuerySchema.extend({
  output: z.boolean().optional().meta({ description: 'include each run\'s output (default true)' }),
});

/** `GET /v1/jobs/{job}/next` query. */
export const nextQuerySchema = z.strictObject({ count: z.number().int().min(1).max(100).optional() });

/** Path parameter `{job}`: a job id or name. */
export const jobParamsSchema = z.strictObject({ job: z.string().min(1).max(200) });
/** Path parameter `{run}`. */
export const runParamsSchema = z.strictObject({ run: z.string().min(1).max(200) });

/** `POST /v1/session`: trade a one-time login code for a session cookie. */
export const sessionBodySchema = z.strictObject({ code: z.string().min(1).max(200) });
/** A dashboard session as the page sees it (the session id itself stays in the HttpOnly cookie). */
export const sessionSchema = z.object({
  csrfToken: z.string(), readOnly: z.boolean(),
  expiresAt: z.string().meta({ description: 'absolute end of the session (12 h after login)' }),
  idleExpiresAt: z.string().meta({ description: 'end if it stays unused (1 h after its last request)' }),
}).meta({ title: 'Session' });
/** A stored dashboard session as listed (`GET /v1/sessions`, `rae-sched session list`): no secret. */
export const dashboardSessionSchema = z.object({
  id: z.string(), readOnly: z.boolean(), createdAt: z.string(), lastSeenAt: z.string(), expiresAt: z.string(), idleExpiresAt: z.string(),
}).meta({ title: 'DashboardSession' });
/** Path parameter `{session}`: a session's public id. */
export const sessionParamsSchema = z.strictObject({ session: z.string().min(1).max(200) });
/** `POST /v1/login-codes` (Unix socket only): what `rae-sched dashboard` prints. */
export const loginCodeSchema = z.object({
  code: z.string(), url: z.string(), expiresAt: z.string(),
}).meta({ title: 'LoginCode' });
/** `POST /v1/login-codes` body. */
export const loginCodeBodySchema = z.strictObject({ readOnly: z.boolean().optional() });

/** Every shape of the API, by name. */
export const schemas = {
  jobSpec: jobSpecInputSchema,
  job: jobSchema,
  jobs: z.array(jobSchema),
  run: runSchema,
  runs: z.array(runSchema),
  health: healthSchema,
  stats: statsSchema,
  why: whySchema,
  error: errorSchema,
  removed: z.object({ removed: z.string() }),
  next: z.object({ next: z.array(z.string()) }),
  restoreResult: z.object({ jobs: count, runs: count }),
  backup: z.object({ format: z.literal('rae-sched-backup'), version: z.literal(1) }).loose()
    .meta({ title: 'BackupDocument', description: 'the whole store: jobs, runs, slots (see `rae-sched backup`)' }),
  restoreBody: z.object({}).loose().meta({ description: 'a document written by `GET /v1/backup`; validated whole before anything changes' }),
  event: z.object({ type: z.string(), at: z.string() }).loose().meta({ title: 'SchedulerEvent' }),
  session: sessionSchema,
  dashboardSession: dashboardSessionSchema,
  dashboardSessions: z.array(dashboardSessionSchema),
  sessionParams: sessionParamsSchema,
  sessionBody: sessionBodySchema,
  loginCode: loginCodeSchema,
  loginCodeBody: loginCodeBodySchema,
  jobListQuery: jobListQuerySchema,
  historyQuery: historyQuerySchema,
  pageQuery: pageQuerySchema,
  nextQuery: nextQuerySchema,
  jobParams: jobParamsSchema,
  runParams: runParamsSchema,
} as const;
