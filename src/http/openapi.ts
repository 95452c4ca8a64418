/**
 * The OpenAPI 3.1 document of the API, generated from the route table and the same zod schemas that
 * validate requests (src/http/routes.ts, schemas.ts). Served at `GET /v1/openapi.json` and committed
 * as docs/openapi.json (a test checks the two are equal: `npm run openapi` rewrites the file).
 */
import { z } from 'zod';
import { packageVersion } from '../version';
import { ROUTES, type RouteDef } from './routes';
import { jsonSchema, schemas, type JsonSchema } from './schemas';

const ERROR_STATUSES: Record<number, string> = {
  400: 'invalid input (`error.field` names it)',
  401: 'TCP only: no valid credentials',
  403: 'TCP only: read-only credentials on a write route, or a dashboard write without its CSRF token',
  404: 'no such job, run or route',
  409: 'conflicts with the current state (a name already taken)',
  413: 'request body too large (1 MiB for a job, 256 MiB for a restore)',
  500: 'internal error',
  503: 'queue full or shutting down',
};


function parameters(route: RouteDef): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [where, schema] of [['path', route.params], ['query', route.query]] as const) {
    if (schema === undefined) continue;
    const js = jsonSchema(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, prop] of Object.entries(js.properties ?? {})) {
      const { description, ...rest } = prop as JsonSchema & { description?: string };
      out.push({
        name, in: where, required: where === 'path' || (js.required ?? []).includes(name), schema: rest,
        ...(description !== undefined ? { description } : {}),
      });
    }
  }
  return out;
}

function operation(route: RouteDef): JsonSchema {
  const responses: Record<string, JsonSchema> = {};
  for (const [status, doc] of Object.entries(route.responses)) {
    const content = 'schema' in doc
      ? { 'application/json': { schema: jsonSchema(doc.schema) } }
      : { [doc.contentType]: { schema: { type: 'string' } } };
    responses[status] = {
      description: doc.description,
      content,
      ...(route.paginated
        ? {
          headers: {
            Link: { description: 'the next page: `<...&after=ID>; rel="next"` (absent on the last page)', schema: { type: 'string' } },
            'X-Total-Count': { description: 'items in the whole (filtered) list, where known', schema: { type: 'integer' } },
          },
        }
        : {}),
    };
  }
  const error = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  const errors = new Set([400, 404, 500]);
  // Public routes too: the session exchange answers 401 for a bad login code.
  if (route.access !== 'local') errors.add(401);
  if (route.access === 'write') errors.add(403);
  if (route.method === 'POST' && route.url === '/v1/jobs') errors.add(409).add(413).add(503);
  if (route.url === '/v1/restore') errors.add(413);
  if (route.url.endsWith('/run')) errors.add(503);
  for (const s of [...errors].sort()) responses[String(s)] = { description: ERROR_STATUSES[s]!, ...error };

  const security = route.access === 'public' || route.access === 'local' ? [] : [{ bearer: [] }, { session: [] }];
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.access === 'local' ? { description: 'Served on the Unix socket only.' } : {}),
    'x-access': route.access,
    security,
    parameters: parameters(route),
    ...(route.body !== undefined
      ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body) } } } }
      : {}),
    responses,
  };
}

/** The OpenAPI document (deterministic: same code, same document). */
export function openApiDocument(): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of [...ROUTES, OPENAPI_ROUTE]) {
    const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'rae-scheduler API',
      version: packageVersion(),
      description: 'Control API of the rae-sched daemon: on its Unix socket (no credentials; the socket is 0600) ' +
        'and, with `rae-sched daemon --http HOST:PORT`, on TCP, where every request needs a bearer token ' +
        '(`rae-sched token create NAME`) or a dashboard session. Errors are `{"error": {"code", "message", "field"}}`. ' +
        'See docs/api.md.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: 'http://127.0.0.1:7070', description: 'rae-sched daemon --http 127.0.0.1:7070' }],
    paths,
    components: {
      schemas: { Error: jsonSchema(schemas.error) },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'a token from `rae-sched token create NAME [--read-only]`' },
        session: { type: 'apiKey', in: 'cookie', name: 'rae_session', description: 'the dashboard\'s session; writes also need the X-CSRF-Token header' },
      },
    },
  };
}

/** `GET /v1/openapi.json` itself (added to the table by server.ts; listed here so the document describes it). */
export const OPENAPI_ROUTE: RouteDef = {
  method: 'GET', url: '/v1/openapi.json', operationId: 'openApi', summary: 'this document', access: 'read',
  responses: { 200: { schema: z.object({ openapi: z.string() }).loose(), description: 'the OpenAPI 3.1 document' } },
  handle: async () => cachedDocument(),
};

let cached: JsonSchema | undefined;
/** The document, built once per process (it depends on code only). */
export function cachedDocument(): JsonSchema {
  return (cached ??= openApiDocument());
}
