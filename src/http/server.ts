/**
 * The API's listeners: the Unix socket (always; see src/cli/server.ts for its file handling) and,
 * when asked, TCP — loopback by default, optional TLS, every request authenticated, and cut off when
 * slow (headers, whole request, idle connection) or too large (body limits per route).
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import type { Logger, Scheduler } from '../api';
import type { Job } from '../model/job';
import { TokenStore } from '../actors/persistence/tokens';
import { buildApp } from './app';
import { Authenticator } from './auth';
import { EventRing, StreamSet } from './events';
import { JobSnapshot } from './job-snapshot';
import type { RouteContext } from './routes';
import { StaticFiles } from './static';
import { isLoopback } from './address';

export { parseListenAddress, isLoopback } from './address';

/**
 * Age at which the jobs snapshot that filtered pages are cut from is refreshed (in the background).
 * Events keep it current meanwhile; only `nextRunAt` after a fire waits for a refresh. Each refresh
 * reads every job, so this also bounds how often a searching page costs the daemon a full read.
 */
export const JOBS_SNAPSHOT_MS = 10_000;

/** Timeouts of the TCP listener, in ms. */
export interface HttpTimeouts {
  /** Until the request headers are in. @default 10000 */
  headersMs?: number;
  /** Until the whole request (headers and body) is in. @default 60000 */
  requestMs?: number;
  /** A connection with no traffic either way is closed (event streams send a heartbeat). @default 60000 */
  idleMs?: number;
}

/** Options of the TCP listener (`rae-sched daemon --http HOST:PORT`). */
export interface HttpOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** The data directory whose token table authenticates requests. */
  dataDir: string;
  /** PEM certificate and key (contents or file paths) to serve HTTPS. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  timeouts?: HttpTimeouts;
  /** Origins allowed to read answers cross-origin (CORS); none by default. */
  corsOrigins?: string[];
  /** Concurrent connections accepted. @default 256 */
  maxConnections?: number;
  /**
   * Period of event-stream heartbeats, and of re-checking a stream's credentials (a revoked token or
   * session ends its open stream within this). @default 15000
   */
  eventHeartbeatMs?: number;
}

const pem = (v: string | Buffer): string | Buffer =>
  typeof v === 'string' && !v.includes('-----BEGIN') ? readFileSync(v) : v;


/** Jobs per read of the snapshot: the cost of one dashboard page, so other requests interleave. */
const SNAPSHOT_PAGE = 500;

/**
 * Every job, read page by page (the scheduler's paged `listJobs`): reading 10,000 at once would hold
 * the daemon's thread for seconds on a loaded machine; pages let other requests in between.
 */
async function readAllJobs(scheduler: Scheduler): Promise<Job[]> {
  const all: Job[] = [];
  for (let page = await scheduler.listJobs({ limit: SNAPSHOT_PAGE }); ; page = await scheduler.listJobs({ limit: SNAPSHOT_PAGE, after: page.next })) {
    all.push(...page.jobs);
    if (page.next === null || page.jobs.length === 0) return all;
  }
}

/** State shared by the listeners of one daemon: the event ring, streams, credentials, metrics. */
export class ApiCore {
  readonly registry = new Registry();
  readonly ring: EventRing;
  readonly streams = new StreamSet();
  readonly auth: Authenticator;
  readonly tokens: TokenStore | null;
  #publicUrl: string | null = null;
  readonly #scheduler: Scheduler;
  readonly #snapshot: JobSnapshot;
  readonly #ringSub: Subscription;

  readonly #heartbeatMs: number | undefined;

  /** `heartbeatMs`: period of event-stream heartbeats and credential re-checks (tests shorten it). */
  constructor(scheduler: Scheduler, opts: { logger?: Logger; tokens?: TokenStore | null; heartbeatMs?: number }) {
    this.#scheduler = scheduler;
    this.#heartbeatMs = opts.heartbeatMs;
    this.ring = new EventRing(scheduler.events$);
    this.#snapshot = new JobSnapshot(() => readAllJobs(scheduler), { maxAgeMs: JOBS_SNAPSHOT_MS });
    this.#ringSub = this.ring.live$.subscribe((n) => this.#snapshot.apply(n.event));
    this.tokens = opts.tokens ?? null;
    this.auth = new Authenticator({ tokens: this.tokens, registry: this.registry, ...(opts.logger ? { logger: opts.logger } : {}) });
  }

  /** Sets the TCP listener's base URL (what `rae-sched dashboard` prints). */
  set publicUrl(url: string | null) {
    this.#publicUrl = url;
  }

  /** Every job, sorted by id, from the shared snapshot (src/http/job-snapshot.ts). */
  listJobs(): Promise<Job[]> {
    return this.#snapshot.get();
  }

  /**
   * Starts reading the snapshot if there is none, without waiting: a dashboard session opening
   * warms it, so the page's first search does not wait for a read of every job.
   */
  warmJobs(): void {
    this.#snapshot.get().catch(() => undefined);
  }

  /** Drops the jobs snapshot (a write through the API: the next filtered page reads afresh). */
  invalidateJobs(): void {
    this.#snapshot.invalidate();
  }

  /** What the routes of one listener see: the Unix socket's (`tcp` false) or a TCP listener's. */
  context(secure: boolean, tcp = true): RouteContext {
    return {
      scheduler: this.#scheduler, auth: this.auth, ring: this.ring, streams: this.streams, secure, tcp,
      ...(this.#heartbeatMs !== undefined ? { heartbeatMs: this.#heartbeatMs } : {}),
      listJobs: () => this.listJobs(),
      invalidateJobs: () => this.invalidateJobs(),
      jobsWritten: (op, answer, ref) => this.#snapshot.written(op, answer, ref),
      warmJobs: () => this.warmJobs(),
      httpMetrics: () => this.registry.metrics(),
      sessions: this.tokens?.sessions ?? null,
      publicUrl: () => this.#publicUrl,
    };
  }

  /** Ends streams and the ring, and closes the token table. */
  async close(): Promise<void> {
    this.#ringSub.unsubscribe();
    this.streams.closeAll();
    this.ring.close();
    await this.tokens?.close().catch(() => undefined);
  }
}

/** The TCP listener. */
export class HttpListener {
  readonly #server: Server;
  readonly #app: FastifyInstance;
  readonly url: string;

  private constructor(server: Server, app: FastifyInstance, url: string) {
    this.#server = server;
    this.#app = app;
    this.url = url;
  }

  /** Listens on `opts.host:opts.port` and serves the API (and the dashboard at `/`). */
  static async start(core: ApiCore, opts: HttpOptions, logger?: Logger): Promise<HttpListener> {
    const host = opts.host ?? '127.0.0.1';
    const t = opts.timeouts ?? {};
    const headersTimeout = t.headersMs ?? 10_000;
    const serverOpts = {
      headersTimeout,
      requestTimeout: Math.max(t.requestMs ?? 60_000, headersTimeout),
      // Node checks both timeouts on this period (default 30 s): check often enough to honour them.
      connectionsCheckingInterval: Math.min(1000, headersTimeout),
      keepAliveTimeout: 5000,
    };
    const server: Server = opts.tls
      ? createHttpsServer({ ...serverOpts, cert: pem(opts.tls.cert), key: pem(opts.tls.key) }) as unknown as Server
      : createHttpServer(serverOpts);
    server.setTimeout(t.idleMs ?? 60_000, (sock) => sock.destroy());
    server.maxConnections = opts.maxConnections ?? 256;
    const app = await buildApp({
      transport: 'tcp',
      ctx: core.context(opts.tls !== undefined),
      registry: core.registry,
      staticFiles: new StaticFiles(),
      serverFactory: (handler) => server.on('request', handler),
      ...(logger ? { logger } : {}),
      ...(opts.corsOrigins ? { corsOrigins: opts.corsOrigins } : {}),
    });
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(opts.port, host, () => {
        server.off('error', reject);
        resolveListen();
      });
    });
    const port = (server.address() as AddressInfo).port;
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    const url = `${opts.tls ? 'https' : 'http'}://${shown}:${port}`;
    if (!isLoopback(host)) {
      logger?.warn({ host, tls: opts.tls !== undefined }, 'the HTTP API listens beyond loopback: every request still needs a token; use TLS');
    }
    core.publicUrl = url;
    return new HttpListener(server, app, url);
  }

  /** Stops accepting connections. */
  stopAccepting(): void {
    this.#server.close();
  }

  /** Closes the listener and every connection. */
  async close(): Promise<void> {
    this.#server.close();
    this.#server.closeAllConnections();
    await this.#app.close().catch(() => undefined);
  }
}
