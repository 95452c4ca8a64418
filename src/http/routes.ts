/**
 * The API's routes, as one table: method, path, who may call it, the zod schemas of what it takes
 * and answers, and the handler. The same table registers the fastify routes (with validation) and
 * generates the OpenAPI document (src/http/openapi.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Scheduler } from '../api';
import type { Job } from '../model/job';
import type { Run } from '../model/run';
import { nextRuns } from '../actors/parser/schedule';
import { ConflictError, NotFoundError, UnauthorizedError } from '../errors';
import { SESSION_TTL_MS, type SessionTable } from '../actors/persistence/sessions';
import { DEFAULT_PAGE, decodeCursor, encodeCursor } from '../reads/cursor';
import type { Access, Authenticator } from './auth';
import type { EventRing, StreamSet } from './events';
import { paginate, type PageQuery } from './pagination';
import { schemas } from './schemas';

/** A job spec is small: 1 MiB (issue 9 item 10). */
export const JOB_BODY_LIMIT = 1024 * 1024;
/** Only a restore document may be large: a backup of a big store fits. */
export const RESTORE_BODY_LIMIT = 256 * 1024 * 1024;
/** Bodies of every other route. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** Content types of non-JSON answers. */
export const PROMETHEUS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** What a handler can reach. */
export interface RouteContext {
  scheduler: Scheduler;
  auth: Authenticator;
  ring: EventRing;
  streams: StreamSet;
  /** Text of the server's own metrics (HTTP requests, auth failures), appended to the scheduler's. */
  httpMetrics: () => Promise<string>;
  /** Base URL of the TCP listener (for `rae-sched dashboard`), or null when there is none. */
  publicUrl: () => string | null;
  /** True on TCP with TLS: cookies get `Secure`. */
  secure: boolean;
  /** True on TCP (requests are authenticated; an event stream re-checks its credentials). */
  tcp: boolean;
  /** Heartbeat (and credential re-check) period of event streams. @default 15000 */
  heartbeatMs?: number;
  /** Every job sorted by id, from a short-lived shared snapshot (see ApiCore.listJobs). */
  listJobs: () => Promise<Job[]>;
  /** Drops that snapshot: after a write route failed. */
  invalidateJobs: () => void;
  /** Patches that snapshot with a write route's answer (see JobSnapshot.written). */
  jobsWritten: (operationId: string, answer: unknown, ref: string | undefined) => void;
  /** Starts reading the jobs snapshot in the background (a dashboard is opening: it will search). */
  warmJobs: () => void;
  /** The stored dashboard sessions (null without a TCP listener). */
  sessions: SessionTable | null;
}

/** One answer a route documents. */
export type ResponseDoc = { schema: z.ZodType; description: string } | { contentType: string; description: string };

/** One route of the table. */
export interface RouteDef {
  method: 'GET' | 'POST' | 'DELETE';
  /** fastify path, `/v1/jobs/:job`. */
  url: string;
  operationId: string;
  summary: string;
  access: Access;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  bodyLimit?: number;
  responses: Record<number, ResponseDoc>;
  /** Answers with `Link: <...>; rel="next"` and `X-Total-Count` (a paginated list). */
  paginated?: boolean;
  handle(ctx: RouteContext, req: FastifyRequest, reply: FastifyReply): Promise<unknown>;
}

/** Routes that change jobs: the jobs snapshot is patched with their answer (or dropped when they fail). */
export const CHANGES_JOBS = new Set(['addJob', 'removeJob', 'pauseJob', 'resumeJob', 'runJob', 'restore']);

type P<T> = FastifyRequest & { params: T };
const jobOf = (req: FastifyRequest): string => (req.params as { job: string }).job;
const json = (schema: z.ZodType, description: string): ResponseDoc => ({ schema, description });

/** Sets the pagination headers of a page and returns its items. */
function sendPage<T>(req: FastifyRequest, reply: FastifyReply, page: { items: T[]; next: string | null; total: number }): T[] {
  if (page.total >= 0) reply.header('x-total-count', String(page.total));
  if (page.next !== null) {
    const u = new URL(req.url, 'http://x');
    u.searchParams.set('after', page.next);
    reply.header('link', `<${u.pathname}${u.search}>; rel="next"`);
  }
  return page.items;
}

function matches(job: Job, q: string): boolean {
  const text = `${job.name}\n${job.schedule}\n${typeof job.command === 'string' ? job.command : job.command?.argv.join(' ') ?? job.module ?? ''}`;
  return text.toLowerCase().includes(q.toLowerCase());
}

/** Every route of the API. */
export const ROUTES: RouteDef[] = [
  {
    method: 'GET', url: '/v1/health', operationId: 'getHealth', summary: 'each component\'s health', access: 'read',
    responses: { 200: json(schemas.health, 'health of every component') },
    handle: (c) => c.scheduler.health(),
  },
  {
    method: 'GET', url: '/v1/stats', operationId: 'getStats', summary: 'counts, success rate, durations, queue, restarts', access: 'read',
    responses: { 200: json(schemas.stats, 'statistics') },
    handle: (c) => c.scheduler.stats(),
  },
  {
    method: 'GET', url: '/v1/metrics', operationId: 'getMetrics', summary: 'Prometheus text exposition', access: 'read',
    responses: { 200: { contentType: PROMETHEUS_TYPE, description: 'metrics of the scheduler and of this HTTP server' } },
    handle: async (c, _req, reply) => {
      const [own, http] = await Promise.all([c.scheduler.metrics(), c.httpMetrics()]);
      void reply.type(PROMETHEUS_TYPE);
      return (own.endsWith('\n') ? own : own + '\n') + http;
    },
  },
  {
    method: 'GET', url: '/v1/jobs', operationId: 'listJobs', summary: 'jobs in creation (id) order, a page at a time', access: 'read',
    query: schemas.jobListQuery, paginated: true,
    responses: { 200: json(schemas.jobs, 'a page of jobs') },
    handle: async (c, req, reply) => {
      const q = req.query as PageQuery & { q?: string; state?: Job['state'] };
      if ((q.q === undefined || q.q === '') && q.state === undefined) {
        // The scheduler's own paged read (one store snapshot per page, cost of one page).
        const page = await c.scheduler.listJobs({ limit: q.limit ?? DEFAULT_PAGE, ...(q.after !== undefined ? { after: q.after } : {}) });
        return sendPage(req, reply, { items: page.jobs, next: page.next, total: -1 });
      }
      // Filtered: cut from the shared snapshot of every job, with the same cursors.
      let jobs = await c.listJobs();
      if (q.state !== undefined) jobs = jobs.filter((j) => j.state === q.state);
      if (q.q !== undefined && q.q !== '') jobs = jobs.filter((j) => matches(j, q.q!));
      const after = q.after === undefined ? undefined : decodeCursor(q.after);
      const page = paginate(jobs, { limit: q.limit ?? DEFAULT_PAGE, ...(after !== undefined ? { after } : {}) }, { defaultLimit: DEFAULT_PAGE, order: 'ascending' });
      return sendPage(req, reply, { ...page, next: page.next === null ? null : encodeCursor(page.next) });
    },
  },
  {
    method: 'POST', url: '/v1/jobs', operationId: 'addJob', summary: 'add a job (stored durably before the answer)', access: 'write',
    body: schemas.jobSpec, bodyLimit: JOB_BODY_LIMIT,
    responses: { 201: json(schemas.job, 'the stored job') },
    handle: async (c, req, reply) => {
      void reply.code(201);
      return c.scheduler.addJob(req.body as Parameters<Scheduler['addJob']>[0]);
    },
  },
  {
    method: 'GET', url: '/v1/jobs/:job', operationId: 'getJob', summary: 'one job, by id or name', access: 'read',
    params: schemas.jobParams, responses: { 200: json(schemas.job, 'the job') },
    handle: (c, req) => c.scheduler.getJob(jobOf(req)),
  },
  {
    method: 'DELETE', url: '/v1/jobs/:job', operationId: 'removeJob', summary: 'remove a job and stop it firing', access: 'write',
    params: schemas.jobParams, responses: { 200: json(schemas.removed, 'removed') },
    handle: async (c, req) => {
      await c.scheduler.removeJob(jobOf(req));
      return { removed: jobOf(req) };
    },
  },
  {
    method: 'POST', url: '/v1/jobs/:job/pause', operationId: 'pauseJob', summary: 'stop firing (history kept)', access: 'write',
    params: schemas.jobParams, responses: { 200: json(schemas.job, 'the paused job') },
    handle: (c, req) => c.scheduler.pauseJob(jobOf(req)),
  },
  {
    method: 'POST', url: '/v1/jobs/:job/resume', operationId: 'resumeJob', summary: 'fire again', access: 'write',
    params: schemas.jobParams, responses: { 200: json(schemas.job, 'the resumed job') },
    handle: (c, req) => c.scheduler.resumeJob(jobOf(req)),
  },
  {
    method: 'POST', url: '/v1/jobs/:job/run', operationId: 'runJob', summary: 'fire once now', access: 'write',
    params: schemas.jobParams, responses: { 202: json(schemas.run, 'the queued run') },
    handle: async (c, req, reply) => {
      void reply.code(202);
      return c.scheduler.runNow(jobOf(req));
    },
  },
  {
    method: 'GET', url: '/v1/jobs/:job/history', operationId: 'jobHistory', summary: 'runs of a job, newest first, a page at a time', access: 'read',
    params: schemas.jobParams, query: schemas.historyQuery, paginated: true,
    responses: { 200: json(schemas.runs, 'a page of runs') },
    handle: async (c, req: P<{ job: string }>, reply) => {
      const q = req.query as PageQuery & { output?: boolean };
      const limit = q.limit ?? 20;
      // The Scheduler reads the newest N runs; a later page reads far enough to pass its cursor.
      const runs = await c.scheduler.history(jobOf(req), { limit: q.after === undefined ? limit : 100_000 });
      const page = paginate(runs, { ...q, limit }, { defaultLimit: 20, order: 'descending', counted: false });
      if (q.output === false) page.items = page.items.map((r: Run) => ({ ...r, output: '' }));
      return sendPage(req, reply, page);
    },
  },
  {
    method: 'GET', url: '/v1/jobs/:job/why', operationId: 'whyJob', summary: 'recent slots, next run, what could block it', access: 'read',
    params: schemas.jobParams, responses: { 200: json(schemas.why, 'the explanation') },
    handle: (c, req) => c.scheduler.why(jobOf(req)),
  },
  {
    method: 'GET', url: '/v1/jobs/:job/next', operationId: 'nextFires', summary: 'the next fire times of a job\'s schedule', access: 'read',
    params: schemas.jobParams, query: schemas.nextQuery, responses: { 200: json(schemas.next, 'ISO-8601 UTC times (empty for event-only schedules)') },
    handle: async (c, req) => {
      const job = await c.scheduler.getJob(jobOf(req));
      const count = (req.query as { count?: number }).count ?? 5;
      if (job.state === 'done') return { next: [] };
      try {
        return { next: nextRuns(job.schedule, { tz: job.timezone ?? undefined, count }).map((d) => d.toISOString()) };
      } catch {
        return { next: [] };
      }
    },
  },
  {
    method: 'GET', url: '/v1/runs/:run/wait', operationId: 'waitForRun', summary: 'answers once the run is final', access: 'read',
    params: schemas.runParams, responses: { 200: json(schemas.run, 'the final run') },
    handle: (c, req) => c.scheduler.waitForRun((req.params as { run: string }).run),
  },
  {
    // Not a write, but the whole store (env values included): read-only tokens do not get it.
    method: 'GET', url: '/v1/backup', operationId: 'backup', summary: 'the whole store as one document', access: 'write',
    responses: { 200: json(schemas.backup, 'the backup document') },
    handle: (c) => c.scheduler.backup(),
  },
  {
    method: 'POST', url: '/v1/restore', operationId: 'restore', summary: 'import a backup document (all or nothing)', access: 'write',
    body: schemas.restoreBody, bodyLimit: RESTORE_BODY_LIMIT,
    responses: { 200: json(schemas.restoreResult, 'what was restored') },
    handle: (c, req) => c.scheduler.restore(req.body),
  },
  {
    method: 'GET', url: '/v1/events', operationId: 'events',
    summary: 'live events: Server-Sent Events (resumable with Last-Event-ID), or NDJSON with Accept: application/x-ndjson',
    access: 'read',
    responses: {
      200: { contentType: 'text/event-stream', description: 'one `data:` JSON SchedulerEvent per message, with `id:`; `event: gap` when events were lost' },
    },
    handle: async (c, req, reply) => {
      const accept = String(req.headers.accept ?? '');
      const lastEventId = req.headers['last-event-id'];
      reply.hijack();
      const stillAllowed = (): boolean => {
        try {
          c.auth.check(req, 'read');
          return true;
        } catch {
          return false;
        }
      };
      c.streams.open(reply.raw, c.ring, {
        sse: !accept.includes('application/x-ndjson'),
        lastEventId: typeof lastEventId === 'string' ? lastEventId : undefined,
        ...(c.tcp ? { stillAllowed } : {}),
        ...(c.heartbeatMs !== undefined ? { heartbeatMs: c.heartbeatMs } : {}),
      });
      return undefined;
    },
  },
  {
    method: 'POST', url: '/v1/login-codes', operationId: 'createLoginCode',
    summary: 'a one-time dashboard login code (Unix socket only: what `rae-sched dashboard` asks for)', access: 'local',
    body: schemas.loginCodeBody, responses: { 201: json(schemas.loginCode, 'the code and the URL to open') },
    handle: async (c, req, reply) => {
      const base = c.publicUrl();
      if (base === null) {
        throw new ConflictError('the daemon serves no HTTP: start it with `rae-sched daemon --http 127.0.0.1:7070`');
      }
      const { code, expiresAt } = c.auth.createLoginCode((req.body as { readOnly?: boolean } | undefined)?.readOnly ?? false);
      void reply.code(201);
      return { code, expiresAt, url: `${base}/#code=${code}` };
    },
  },
  {
    method: 'POST', url: '/v1/session', operationId: 'openSession', summary: 'trade a login code for a session cookie', access: 'public',
    body: schemas.sessionBody, responses: { 201: json(schemas.session, 'the session; its id is in the HttpOnly cookie') },
    handle: async (c, req, reply) => {
      const s = await c.auth.openSession(req, (req.body as { code: string }).code);
      c.warmJobs();
      const secure = c.secure ? '; Secure' : '';
      void reply.header('set-cookie', `rae_session=${s.id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}${secure}`);
      void reply.code(201);
      return { csrfToken: s.csrfToken, readOnly: s.readOnly, expiresAt: s.expiresAt, idleExpiresAt: s.idleExpiresAt };
    },
  },
  {
    method: 'GET', url: '/v1/session', operationId: 'getSession', summary: 'the current dashboard session (its CSRF token)', access: 'read',
    responses: { 200: json(schemas.session, 'the session') },
    handle: async (c, req) => {
      const s = c.auth.sessionOf(req.headers.cookie);
      if (s === undefined) {
        throw new UnauthorizedError('no dashboard session (this route is for the dashboard\'s cookie)');
      }
      c.warmJobs();
      return s;
    },
  },
  {
    method: 'DELETE', url: '/v1/session', operationId: 'closeSession', summary: 'log the dashboard out', access: 'read',
    responses: { 200: json(schemas.removed, 'the session is closed') },
    handle: async (c, req, reply) => {
      await c.auth.closeSession(req.headers.cookie);
      void reply.header('set-cookie', 'rae_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
      return { removed: 'session' };
    },
  },
  {
    // Administrative: who is logged in to the dashboard. Not for read-only credentials.
    method: 'GET', url: '/v1/sessions', operationId: 'listSessions', summary: 'logged-in dashboard sessions, oldest first, a page at a time', access: 'write',
    query: schemas.pageQuery, paginated: true,
    responses: { 200: json(schemas.dashboardSessions, 'a page of sessions (never their secrets)') },
    handle: async (c, req, reply) => {
      const q = req.query as PageQuery;
      const page = paginate(c.sessions?.list() ?? [], q, { defaultLimit: DEFAULT_PAGE, order: 'ascending' });
      return sendPage(req, reply, page);
    },
  },
  {
    method: 'DELETE', url: '/v1/sessions/:session', operationId: 'revokeSession', summary: 'log a dashboard session out (its next request gets 401)', access: 'write',
    params: schemas.sessionParams, responses: { 200: json(schemas.dashboardSession, 'the revoked session') },
    handle: async (c, req) => {
      const id = (req.params as { session: string }).session;
      if (c.sessions === null) throw new NotFoundError(`no session '${id}'`);
      return c.sessions.revoke(id);
    },
  },
];
