/**
 * Who may call the API on TCP. The Unix socket is the owner's (mode 0600) and needs nothing; every
 * TCP request needs either a bearer token (`Authorization: Bearer rae_…`, see TokenStore) or a
 * dashboard session cookie — and a session's writes also need its CSRF token (`X-CSRF-Token`), since
 * a browser attaches cookies to requests other sites make it send.
 *
 * Failures are logged and counted (`rae_http_auth_failures_total{reason}`) and answered with one
 * generic 401: the caller never learns whether a token was unknown, revoked or malformed.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import { ForbiddenError, UnauthorizedError } from '../errors';
import type { Logger } from '../api';
import type { TokenStore } from '../actors/persistence/tokens';

/** What a route needs. `local` routes exist on the Unix socket only. */
export type Access = 'public' | 'read' | 'write' | 'local';

/** Name of the dashboard's session cookie. */
export const SESSION_COOKIE = 'rae_session';

/** How long a login code printed by `rae-sched dashboard` can be traded for a session. */
const LOGIN_CODE_TTL_MS = 10 * 60_000;
/** Bound on the login codes kept. */
const MAX_CODES = 100;

/** What `GET /v1/session` answers. */
export interface SessionView {
  csrfToken: string;
  readOnly: boolean;
  expiresAt: string;
  idleExpiresAt: string;
}

/** Why a request was refused, as counted in metrics (never sent to the caller). */
export type AuthFailure = 'missing' | 'bad-token' | 'bad-session' | 'csrf' | 'read-only' | 'bad-code';

const random = (): string => randomBytes(32).toString('base64url');

/**
 * Login codes, sessions and the checks. Sessions are stored (hashed, with idle and absolute expiry:
 * src/actors/persistence/sessions.ts) so a daemon restart keeps pages logged in; login codes live in
 * memory — they last 10 minutes and are used once, so a restart in between only means running
 * `rae-sched dashboard` again, and an unused code never reaches the disk.
 */
export class Authenticator {
  readonly #tokens: TokenStore | null;
  readonly #logger: Logger | undefined;
  readonly #codes = new Map<string, { readOnly: boolean; expiresAt: number }>();
  readonly #failures: Counter<'reason'>;
  readonly #now: () => number;

  constructor(opts: { tokens: TokenStore | null; logger?: Logger; registry: Registry; now?: () => number }) {
    this.#tokens = opts.tokens;
    this.#logger = opts.logger;
    this.#now = opts.now ?? Date.now;
    this.#failures = new Counter({
      name: 'rae_http_auth_failures_total',
      help: 'HTTP API requests refused for missing or bad credentials, by reason',
      labelNames: ['reason'],
      registers: [opts.registry],
    });
  }

  /**
   * Checks a TCP request's credentials for a route of `access`.
   * @throws UnauthorizedError (no or bad credentials) or ForbiddenError (read-only, missing CSRF token).
   */
  check(req: { headers: Record<string, string | string[] | undefined>; ip?: string; method: string; url: string }, access: Access): void {
    if (access === 'public') return;
    const auth = header(req.headers, 'authorization');
    let readOnly: boolean;
    if (auth !== undefined) {
      const m = /^Bearer ([^\s]+)$/i.exec(auth);
      const token = m === null || this.#tokens === null ? null : this.#tokens.verify(m[1]!);
      if (token === null) this.#fail(req, 'bad-token');
      readOnly = token.readOnly;
    } else {
      const session = this.#session(cookie(header(req.headers, 'cookie'), SESSION_COOKIE));
      if (session === undefined) this.#fail(req, header(req.headers, 'cookie') === undefined ? 'missing' : 'bad-session');
      if (access === 'write' && !safeEqual(header(req.headers, 'x-csrf-token') ?? '', session.csrfToken)) {
        this.#fail(req, 'csrf', new ForbiddenError('a dashboard write needs its X-CSRF-Token header'));
      }
      readOnly = session.readOnly;
    }
    if (access === 'write' && readOnly) {
      this.#fail(req, 'read-only', new ForbiddenError('these credentials are read-only'));
    }
  }

  /** A one-time login code for the dashboard (asked for on the Unix socket by `rae-sched dashboard`). */
  createLoginCode(readOnly: boolean): { code: string; expiresAt: string } {
    this.#sweep();
    if (this.#codes.size >= MAX_CODES) this.#codes.delete(this.#codes.keys().next().value!);
    const code = random();
    const expiresAt = this.#now() + LOGIN_CODE_TTL_MS;
    this.#codes.set(code, { readOnly, expiresAt });
    return { code, expiresAt: new Date(expiresAt).toISOString() };
  }

  /**
   * Trades a login code (once) for a stored session.
   * @throws UnauthorizedError when the code is unknown, used or expired.
   */
  async openSession(req: { ip?: string; method: string; url: string }, code: string): Promise<{ id: string } & SessionView> {
    this.#sweep();
    const found = this.#codes.get(code);
    this.#codes.delete(code);
    if (found === undefined || found.expiresAt <= this.#now() || this.#tokens === null) this.#fail(req, 'bad-code');
    const { secret, csrfToken, session } = await this.#tokens.sessions.open(found.readOnly);
    return { id: secret, csrfToken, readOnly: session.readOnly, expiresAt: session.expiresAt, idleExpiresAt: session.idleExpiresAt };
  }

  /** The session of a request's cookie, for `GET /v1/session`. */
  sessionOf(cookieHeader: string | undefined): SessionView | undefined {
    const s = this.#session(cookie(cookieHeader, SESSION_COOKIE));
    return s && { csrfToken: s.csrfToken, readOnly: s.readOnly, expiresAt: s.expiresAt, idleExpiresAt: s.idleExpiresAt };
  }

  /** Ends the session of a request's cookie (logout). */
  async closeSession(cookieHeader: string | undefined): Promise<void> {
    const id = cookie(cookieHeader, SESSION_COOKIE);
    if (id !== undefined) await this.#tokens?.sessions.close(id);
  }

  #session(secret: string | undefined): (SessionView & { readOnly: boolean }) | undefined {
    return this.#tokens?.sessions.use(secret);
  }

  #fail(req: { ip?: string; method: string; url: string }, reason: AuthFailure, err?: Error): never {
    this.#failures.inc({ reason });
    // The request line, not the query string: a login code must not land in a log file.
    this.#logger?.warn({ reason, ip: req.ip, method: req.method, path: req.url.split('?')[0] }, 'http request refused');
    throw err ?? new UnauthorizedError('authentication required');
  }

  #sweep(): void {
    const now = this.#now();
    for (const [k, v] of this.#codes) if (v.expiresAt <= now) this.#codes.delete(k);
  }
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The value of one cookie in a `Cookie` header. */
export function cookie(headerValue: string | undefined, name: string): string | undefined {
  if (headerValue === undefined) return undefined;
  for (const part of headerValue.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
