/**
 * An HTTP client for the tests that checks every exchange against the OpenAPI document: the
 * request's path parameters, query and body against the operation's schemas, and the answer's body
 * against the schema documented for its status (an undocumented status fails). Records which
 * operations were exercised, so a suite can check it covered them all.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../src/http/openapi';

type Schema = Record<string, unknown>;
interface Operation {
  operationId: string;
  parameters: Array<{ name: string; in: 'path' | 'query'; required: boolean; schema: Schema }>;
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}

/** One answer. */
export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: unknown;
}

/** Where to send requests. */
export type Target = { socketPath: string } | { url: string; ca?: Buffer };

const doc = openApiDocument() as { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } };
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');

const resolveRefs = (s: Schema): Schema =>
  JSON.parse(JSON.stringify(s).replace(/"#\/components\/schemas\//g, '"doc#/components/schemas/')) as Schema;

function check(schema: Schema, value: unknown, what: string): void {
  const validate = ajv.compile(resolveRefs(schema));
  if (!validate(value)) {
    throw new Error(`${what} does not match the OpenAPI document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 500)}`);
  }
}

/** Operation ids exercised so far. */
export const exercised = new Set<string>();
/** Every operation id of the document. */
export const allOperations = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));

function findOperation(method: string, pathname: string, invalid: boolean): { op: Operation; params: Record<string, string> } | undefined {
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch (e) {
      if (invalid) return s;
      throw e;
    }
  };
  for (const [template, ops] of Object.entries(doc.paths)) {
    const names: string[] = [];
    const re = new RegExp('^' + template.replace(/\{(\w+)\}/g, (_m, n: string) => { names.push(n); return '([^/]+)'; }) + '$');
    const m = re.exec(pathname);
    const op = ops[method.toLowerCase()];
    if (m && op) return { op, params: Object.fromEntries(names.map((n, i) => [n, decode(m[i + 1]!)])) };
  }
  return undefined;
}

/** Sends a request without checking anything (limits and malformed-request tests). */
export function rawRequest(target: Target, method: string, path: string, opts: { body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolveAnswer, reject) => {
    const headers = { ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}), ...opts.headers };
    const onRes = (res: import('node:http').IncomingMessage): void => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let json: unknown;
        try { json = text === '' ? undefined : JSON.parse(text); } catch { json = undefined; }
        resolveAnswer({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    };
    const req = 'socketPath' in target
      ? httpRequest({ socketPath: target.socketPath, method, path, agent: false, headers }, onRes)
      : (target.url.startsWith('https:') ? httpsRequest : httpRequest)(new URL(path, target.url), {
        method, agent: false, headers, ...('ca' in target && target.ca ? { ca: target.ca } : {}),
      }, onRes);
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Sends a JSON request and checks request and answer against the document. */
export async function api(
  target: Target, method: string, path: string,
  opts: { body?: unknown; token?: string; headers?: Record<string, string>; invalid?: boolean } = {},
): Promise<Answer> {
  const u = new URL(path, 'http://x');
  const found = findOperation(method, u.pathname, opts.invalid === true);
  if (found === undefined) throw new Error(`${method} ${u.pathname} is not in the OpenAPI document`);
  const { op, params } = found;
  exercised.add(op.operationId);
  // `invalid`: a request the test means to be wrong; only the answer is checked.
  for (const p of opts.invalid ? [] : op.parameters) {
    const raw = p.in === 'path' ? params[p.name] : u.searchParams.get(p.name) ?? undefined;
    if (raw === undefined) {
      if (p.required) throw new Error(`${op.operationId}: required parameter ${p.name} missing`);
      continue;
    }
    // Query values travel as text; check them as the server reads them (numbers and booleans coerced).
    const typed = (p.schema as { type?: string }).type === 'integer' && /^-?\d+$/.test(raw) ? Number(raw)
      : (p.schema as { type?: string }).type === 'boolean' && /^(true|false)$/.test(raw) ? raw === 'true' : raw;
    check(p.schema, typed, `${op.operationId} parameter ${p.name}`);
  }
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    const schema = op.requestBody?.content['application/json']?.schema;
    if (schema === undefined) throw new Error(`${op.operationId} takes no body`);
    if (!opts.invalid) check(schema, opts.body, `${op.operationId} request body`);
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const answer = await rawRequest(target, method, path, { ...(body !== undefined ? { body } : {}), headers });
  const documented = op.responses[String(answer.status)];
  if (documented === undefined) throw new Error(`${op.operationId} answered ${answer.status}, which the document does not list: ${answer.text.slice(0, 300)}`);
  const json = documented.content?.['application/json']?.schema;
  if (json !== undefined) check(json, answer.json, `${op.operationId} ${answer.status} answer`);
  else if (documented.content !== undefined) {
    const type = Object.keys(documented.content)[0]!;
    if (!String(answer.headers['content-type']).startsWith(type.split(';')[0]!)) {
      throw new Error(`${op.operationId} answered ${String(answer.headers['content-type'])}, documented ${type}`);
    }
  }
  return answer;
}
