/**
 * The control API: HTTP + JSON on the daemon's Unix socket (mode 0600), so the CLI, the Electron UI and
 * `curl --unix-socket <dataDir>/rae-sched.sock http://x/v1/jobs` all drive the same Scheduler.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmod, unlink } from 'node:fs/promises';
import type { Subscription } from 'rxjs';
import { ConflictError, NotFoundError, ValidationError, serializeError } from '../errors';
import type { Logger, Scheduler } from '../api';
import { daemonAnswers } from './client';
import { API_PREFIX, httpStatusOf, limitSchema, parseJobSpec, parseWith } from './protocol';

/** What a route handler answers: JSON, text, or an open stream it manages itself. */
type Reply = { json: unknown; status?: number } | { text: string; contentType: string } | { streaming: true };

interface RouteContext {
  params: string[];
  url: URL;
  body: () => Promise<unknown>;
  req: IncomingMessage;
  res: ServerResponse;
}

interface Route {
  method: string;
  pattern: RegExp;
  handle(ctx: RouteContext): Promise<Reply>;
}

/** Request bodies above this are refused: a backup of a large store fits, a runaway client does not. */
const MAX_BODY_BYTES = 256 * 1024 * 1024;
const PROMETHEUS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The daemon's HTTP server on a Unix socket. */
export class ControlServer {
  readonly #server: Server;
  readonly #scheduler: Scheduler;
  readonly #socketPath: string;
  readonly #logger: Logger | undefined;
  readonly #streams = new Set<{ res: ServerResponse; sub: Subscription }>();
  readonly #routes: Route[];
  #closed = false;

  private constructor(scheduler: Scheduler, socketPath: string, logger?: Logger) {
    this.#scheduler = scheduler;
    this.#socketPath = socketPath;
    this.#logger = logger;
    this.#routes = this.#buildRoutes();
    this.#server = createServer((req, res) => void this.#dispatch(req, res));
  }

  /**
   * Listens on `socketPath`. A socket file left by a dead daemon is removed first; a live daemon
   * answering on it is a ConflictError (two daemons must never share a data directory).
   */
  static async start(scheduler: Scheduler, socketPath: string, logger?: Logger): Promise<ControlServer> {
    if (await daemonAnswers(socketPath)) {
      throw new ConflictError(`a daemon already answers on ${socketPath}`);
    }
    await unlink(socketPath).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    const server = new ControlServer(scheduler, socketPath, logger);
    await new Promise<void>((resolveListen, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(socketPath, () => {
        server.#server.off('error', reject);
        resolveListen();
      });
    });
    // Only the owner may drive the scheduler: it runs arbitrary commands.
    await chmod(socketPath, 0o600);
    return server;
  }

  /** The socket this server listens on. */
  get socketPath(): string {
    return this.#socketPath;
  }

  /** Stops accepting connections; requests already in flight are still answered. */
  stopAccepting(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
  }

  /** Stops accepting, ends event streams, drops remaining connections and removes the socket file. */
  async close(): Promise<void> {
    this.stopAccepting();
    for (const s of this.#streams) {
      s.sub.unsubscribe();
      s.res.end();
    }
    this.#streams.clear();
    this.#server.closeAllConnections();
    await unlink(this.#socketPath).catch(() => undefined);
  }

  async #dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://rae-sched');
    try {
      const reply = await this.#route(req, res, url);
      if ('streaming' in reply) return;
      if ('text' in reply) {
        res.writeHead(200, { 'content-type': reply.contentType });
        res.end(reply.text);
        return;
      }
      sendJson(res, reply.status ?? 200, reply.json);
    } catch (err) {
      const wire = serializeError(err);
      if (wire.code === 'INTERNAL') this.#logger?.error({ err, url: req.url }, 'control request failed');
      if (!res.headersSent) sendJson(res, httpStatusOf(wire.code), { error: wire });
      else res.destroy();
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<Reply> {
    if (url.pathname.startsWith(API_PREFIX + '/')) {
      const path = url.pathname.slice(API_PREFIX.length);
      for (const route of this.#routes) {
        const m = route.pattern.exec(path);
        if (m === null || route.method !== req.method) continue;
        const params = m.slice(1).map((p) => decodeURIComponent(p));
        return route.handle({ params, url, req, res, body: () => readJsonBody(req) });
      }
    }
    throw new NotFoundError(`no route ${req.method} ${url.pathname}`);
  }

  #buildRoutes(): Route[] {
    const s = this.#scheduler;
    const job = '/jobs/([^/]+)';
    const route = (method: string, path: string, handle: Route['handle']): Route =>
      ({ method, pattern: new RegExp(`^${path}$`), handle });
    return [
      route('GET', '/health', async () => ({ json: await s.health() })),
      route('GET', '/stats', async () => ({ json: await s.stats() })),
      route('GET', '/metrics', async () => ({ text: await s.metrics(), contentType: PROMETHEUS_TYPE })),
      route('GET', '/jobs', async (c) => ({ json: await listJobs(s, c.url) })),
      route('POST', '/jobs', async (c) => ({ json: await s.addJob(parseJobSpec(await c.body())), status: 201 })),
      route('GET', job, async (c) => ({ json: await s.getJob(c.params[0]!) })),
      route('DELETE', job, async (c) => {
        await s.removeJob(c.params[0]!);
        return { json: { removed: c.params[0] } };
      }),
      route('POST', `${job}/pause`, async (c) => ({ json: await s.pauseJob(c.params[0]!) })),
      route('POST', `${job}/resume`, async (c) => ({ json: await s.resumeJob(c.params[0]!) })),
      route('POST', `${job}/run`, async (c) => ({ json: await s.runNow(c.params[0]!), status: 202 })),
      route('GET', `${job}/history`, async (c) => {
        const raw = c.url.searchParams.get('limit');
        const limit = raw === null ? undefined : parseWith(limitSchema, raw, 'limit');
        return { json: await s.history(c.params[0]!, limit === undefined ? {} : { limit }) };
      }),
      route('GET', `${job}/why`, async (c) => ({ json: await s.why(c.params[0]!) })),
      route('GET', '/runs/([^/]+)/wait', async (c) => ({ json: await s.waitForRun(c.params[0]!) })),
      route('GET', '/backup', async () => ({ json: await s.backup() })),
      route('POST', '/restore', async (c) => ({ json: await s.restore(await c.body()) })),
      route('GET', '/events', async (c) => this.#streamEvents(c.req, c.res)),
    ];
  }

  /** NDJSON, one SchedulerEvent per line, until the client goes away or the server closes. */
  #streamEvents(req: IncomingMessage, res: ServerResponse): Reply {
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    // Flush the headers now so a client knows the stream is open before the first event.
    res.flushHeaders();
    const entry = {
      res,
      sub: this.#scheduler.events$.subscribe({
        next: (ev) => res.write(JSON.stringify(ev) + '\n'),
        complete: () => res.end(),
        error: () => res.end(),
      }),
    };
    this.#streams.add(entry);
    const drop = (): void => {
      entry.sub.unsubscribe();
      this.#streams.delete(entry);
    };
    req.on('close', drop);
    res.on('close', drop);
    return { streaming: true };
  }
}

/**
 * `GET /v1/jobs`: every job as an array; with `?limit=N`, `?after=CURSOR` (or `?page=1`) one page,
 * `{ "jobs": [...], "next": cursor | null }`.
 */
function listJobs(s: Scheduler, url: URL): Promise<unknown> {
  const q = url.searchParams;
  if (!q.has('limit') && !q.has('after') && !q.has('page')) return s.listJobs();
  const limit = q.get('limit');
  const after = q.get('after');
  return s.listJobs({
    ...(limit === null ? {} : { limit: parseWith(limitSchema, limit, 'limit') }),
    ...(after === null ? {} : { after }),
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value ?? null);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function readJsonBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ValidationError(`body: request body exceeds ${MAX_BODY_BYTES} bytes`, 'body'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return reject(new ValidationError('body: a JSON body is required', 'body'));
      try {
        resolveBody(JSON.parse(text));
      } catch {
        reject(new ValidationError('body: request body is not JSON', 'body'));
      }
    });
  });
}
