/**
 * Builds the fastify application that serves the API (src/http/routes.ts) on one listener: the Unix
 * socket (no credentials: the socket is 0600) or TCP (every request authenticated, see auth.ts).
 *
 * Validation: each route's zod schemas become JSON Schemas that fastify checks with ajv (2020-12)
 * before the handler runs — bodies strictly (no coercion, unknown fields refused), query strings and
 * path parameters with type coercion (`?limit=5` is the number 5).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Counter, type Registry } from 'prom-client';
import { SchedulerError, ValidationError, serializeError, type SerializedError } from '../errors';
import type { Logger } from '../api';
import type { Access } from './auth';
import { CHANGES_JOBS, DEFAULT_BODY_LIMIT, ROUTES, type RouteContext, type RouteDef } from './routes';
import { OPENAPI_ROUTE } from './openapi';
import { jsonSchema } from './schemas';
import { httpStatusOf } from './status';
import type { StaticFiles } from './static';

/** Options of {@link buildApp}. */
export interface AppOptions {
  transport: 'unix' | 'tcp';
  ctx: RouteContext;
  logger?: Logger;
  registry: Registry;
  /** The raw server to serve on (the caller creates and listens on it). */
  serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) => Server;
  /** Dashboard assets, served at `/` (TCP only). */
  staticFiles?: StaticFiles;
  /** `Access-Control-Allow-Origin` answers for these origins only; none by default (CORS closed). */
  corsOrigins?: string[];
}

/** `rae_http_requests_total`, one per registry (the listeners of a daemon share it). */
function requestCounter(registry: Registry): Counter<'transport' | 'route' | 'status'> {
  const name = 'rae_http_requests_total';
  return (registry.getSingleMetric(name) as Counter<'transport' | 'route' | 'status'> | undefined) ?? new Counter({
    name,
    help: 'HTTP API requests answered, by listener, route and status',
    labelNames: ['transport', 'route', 'status'],
    registers: [registry],
  });
}

function makeAjv(coerce: boolean): Ajv2020 {
  // verbose: errors carry their schema, whose description words a pattern error for people.
  const ajv = new Ajv2020({ coerceTypes: coerce, useDefaults: false, removeAdditional: false, allErrors: false, strict: false, verbose: true });
  addFormats(ajv);
  return ajv;
}

/** The dotted field an ajv error is about (`retry.maxRetries`), or what of the request it is. */
function fieldOf(err: { instancePath: string; params: Record<string, unknown> }, part: string): string {
  const path = err.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const extra = (err.params.missingProperty ?? err.params.additionalProperty) as string | undefined;
  if (extra !== undefined) path.push(extra);
  return path.length > 0 ? path.join('.') : part === 'body' ? 'body' : part;
}

/** Maps any error to its HTTP status and `{"error": ...}` body. */
export function errorAnswer(err: unknown): { status: number; error: SerializedError; internal: boolean } {
  if (err instanceof SchedulerError) {
    const error = err.toJSON();
    return { status: httpStatusOf(error.code), error, internal: error.code === 'INTERNAL' };
  }
  type AjvError = { instancePath: string; keyword: string; params: Record<string, unknown>; message?: string; parentSchema?: { description?: string } };
  const fe = err as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (fe.validation !== undefined && fe.validation.length > 0) {
    const v = fe.validation[0]!;
    const field = fieldOf(v, fe.validationContext ?? 'body');
    const what = v.params.additionalProperty !== undefined ? 'is not a known field'
      : v.keyword === 'pattern' && v.parentSchema?.description !== undefined ? v.parentSchema.description
        : (v.message ?? 'is not valid');
    return { status: 400, error: new ValidationError(`${field}: ${what}`, field).toJSON(), internal: false };
  }
  const bad = (status: number, message: string, field?: string): { status: number; error: SerializedError; internal: false } =>
    ({ status, error: new ValidationError(message, field).toJSON(), internal: false });
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return bad(413, 'body: request body is larger than this route accepts', 'body');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return bad(400, 'body: a JSON body is required', 'body');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return bad(415, 'body: send JSON (content-type: application/json)', 'body');
    case 'FST_ERR_BAD_URL':
      return bad(400, 'path: the URL is not validly percent-encoded', 'path');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return bad(400, 'body: content-length does not match the body', 'body');
    default:
  }
  if (err instanceof SyntaxError || fe.statusCode === 400) return bad(400, 'body: request body is not JSON', 'body');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return bad(fe.statusCode, fe.message);
  }
  return { status: 500, error: serializeError(err), internal: true };
}

/** Registers the routes and hooks on a new fastify instance (not listening: the caller's server does). */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const tcp = opts.transport === 'tcp';
  const app = Fastify({
    logger: false,
    serverFactory: opts.serverFactory as never,
    bodyLimit: DEFAULT_BODY_LIMIT,
    // Job names go in paths (percent-encoded): fastify's default of 100 characters is too short.
    routerOptions: { maxParamLength: 1000 },
    return503OnClosing: false,
    // A bad percent-encoding in the path (`/v1/jobs/%E0%A4%A`) is the caller's mistake: 400, no stack.
    frameworkErrors: (err, _req, reply) => send(reply, errorAnswer(err)),
  }) as unknown as FastifyInstance;

  const bodyAjv = makeAjv(false);
  const paramAjv = makeAjv(true);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : paramAjv).compile(schema as object) as never);
  // Answers are JSON.stringify'd: response schemas document them (and the tests check answers
  // against them) but never filter them.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  // A body sent without a content-type is read as JSON too (curl -d sends form encoding by default).
  app.addContentTypeParser('*', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

  const requests = requestCounter(opts.registry);
  app.addHook('onResponse', async (req, reply) => {
    requests.inc({ transport: opts.transport, route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
  });

  if (tcp) {
    // Before the body is read: an unauthenticated caller cannot make us parse anything.
    app.addHook('onRequest', async (req) => {
      const access = (req.routeOptions.config as { access?: Access }).access ?? 'read';
      opts.ctx.auth.check(req, access);
    });
  }
  app.addHook('onSend', async (req, reply, payload) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'no-referrer');
    void reply.header('x-frame-options', 'DENY');
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    const origin = req.headers.origin;
    if (origin !== undefined && opts.corsOrigins?.includes(origin)) {
      void reply.header('access-control-allow-origin', origin);
      void reply.header('vary', 'Origin');
    }
    return payload;
  });

  app.setErrorHandler((err, req, reply) => {
    const answer = errorAnswer(err);
    if (answer.internal) opts.logger?.error({ err, method: req.method, path: req.url.split('?')[0] }, 'http request failed');
    return send(reply, answer);
  });
  app.setNotFoundHandler((req, reply) =>
    send(reply, { status: 404, error: { name: 'NotFoundError', code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }, internal: false }));

  for (const route of [...ROUTES, OPENAPI_ROUTE]) {
    if (route.access === 'local' && tcp) continue;
    register(app, route, opts.ctx);
  }
  if (tcp && opts.staticFiles !== undefined) opts.staticFiles.register(app);
  if (opts.corsOrigins !== undefined && opts.corsOrigins.length > 0) {
    app.options('/*', { config: { access: 'public' } }, async (req, reply) => {
      const origin = req.headers.origin;
      if (origin === undefined || !opts.corsOrigins!.includes(origin)) return reply.code(403).send();
      return reply.code(204)
        .header('access-control-allow-methods', 'GET, POST, DELETE')
        .header('access-control-allow-headers', 'authorization, content-type, last-event-id')
        .header('access-control-max-age', '600')
        .send();
    });
  }
  await app.ready();
  return app;
}

function send(reply: FastifyReply, answer: { status: number; error: SerializedError; internal?: boolean }): FastifyReply {
  return reply.code(answer.status).type('application/json; charset=utf-8').send({ error: answer.error });
}

function register(app: FastifyInstance, route: RouteDef, ctx: RouteContext): void {
  const schema: Record<string, unknown> = {};
  if (route.params) schema.params = jsonSchema(route.params);
  if (route.query) schema.querystring = jsonSchema(route.query);
  if (route.body) schema.body = jsonSchema(route.body);
  app.route({
    method: route.method,
    url: route.url,
    schema,
    config: { access: route.access },
    ...(route.bodyLimit !== undefined ? { bodyLimit: route.bodyLimit } : {}),
    handler: async (req: FastifyRequest, reply: FastifyReply) => {
      let out: unknown;
      try {
        out = await route.handle(ctx, req, reply);
      } catch (err) {
        // The store may or may not have changed: the next filtered page reads it afresh.
        if (CHANGES_JOBS.has(route.operationId)) ctx.invalidateJobs();
        throw err;
      }
      if (CHANGES_JOBS.has(route.operationId)) ctx.jobsWritten(route.operationId, out, (req.params as { job?: string } | undefined)?.job);
      if (reply.sent) return reply;
      return out;
    },
  });
}
