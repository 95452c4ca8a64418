/**
 * The control API's wire protocol, shared by the server (which validates what enters) and the client:
 * HTTP status per error code and the zod schemas of request bodies.
 */
import { z } from 'zod';
import { ValidationError, type ErrorCode } from '../errors';
import type { JobSpec } from '../model/job';

// Its own tiny module: the CLI's client needs the prefix without loading zod (~50-250 ms per command).
export { API_PREFIX } from './api-path';

/** HTTP status of an error response, by error code. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'VALIDATION':
      return 400;
    case 'NOT_FOUND':
      return 404;
    case 'CONFLICT':
      return 409;
    case 'QUEUE_FULL':
    case 'SHUTDOWN':
      return 503;
    default:
      return 500;
  }
}

const duration = z.number().int().nonnegative();

const triggerSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('watch'), paths: z.array(z.string().min(1)).min(1), debounceMs: duration.optional() }),
  z.strictObject({ type: z.literal('after'), job: z.string().min(1), on: z.enum(['succeeded', 'failed', 'finished']) }),
  z.strictObject({ type: z.literal('when'), condition: z.string().min(1), cooldownMs: duration.optional() }),
]);

/** Shape of a JobSpec as it arrives on `POST /v1/jobs`; the scheduler validates the meaning. */
export const jobSpecSchema = z.strictObject({
  name: z.string().min(1),
  schedule: z.string().min(1),
  command: z.union([z.string().min(1), z.strictObject({ argv: z.array(z.string()).min(1) })]).optional(),
  module: z.string().min(1).optional(),
  isolation: z.enum(['process', 'thread']).optional(),
  timezone: z.string().min(1).nullable().optional(),
  priority: z.number().int().optional(),
  retry: z.strictObject({ maxRetries: z.number().int().nonnegative().optional(), backoffMs: duration.optional() }).optional(),
  limits: z.strictObject({
    timeoutMs: z.number().int().positive().optional(),
    maxMemoryBytes: z.number().int().positive().optional(),
    maxCpuPercent: z.number().positive().optional(),
  }).optional(),
  overlap: z.enum(['skip', 'queue', 'allow', 'replace']).optional(),
  catchUp: z.enum(['none', 'once', 'all']).optional(),
  cwd: z.string().min(1).optional(),
  env: z.record(z.string(), z.string()).optional(),
  triggers: z.array(triggerSchema).optional(),
  jitterMs: duration.optional(),
  enabled: z.boolean().optional(),
});

/** `?limit=N` of the history route. */
export const limitSchema = z.coerce.number().int().positive();

/**
 * Parses `value` with `schema`, turning the first zod issue into one ValidationError that names the
 * field (`retry.backoffMs`) and what is wrong with it.
 */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : what;
  throw new ValidationError(`${field}: ${issue.message}`, field);
}

/** Validates a request body as a JobSpec. */
export function parseJobSpec(body: unknown): JobSpec {
  return parseWith(jobSpecSchema, body, 'body') as JobSpec;
}
