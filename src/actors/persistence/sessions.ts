/**
 * Dashboard sessions, in the data directory's LMDB environment (db `sessions`, beside `tokens`).
 *
 * Stored so that a daemon restart keeps logged-in pages logged in, and so that sessions can be
 * listed and revoked (`rae-sched session list|revoke`, also with the daemon stopped). As for tokens,
 * only a hash of the session secret (the cookie's value, 32 random bytes) is stored: a copy of the
 * store gives no usable cookie. The CSRF token is derived from the secret (a hash of it under another
 * label), so it is not stored at all and only someone holding the cookie can work it out.
 *
 * A session ends at the first of: its absolute expiry (12 h after login), an idle expiry (1 h
 * without a request: an open page polls every few seconds, a closed tab is forgotten), logout, or
 * revoke. Use is recorded at most once a minute per session, so a busy page costs no write per request.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Database, RootDatabase } from 'lmdb';
import { NotFoundError } from '../../errors';
import { newId } from '../../model/ids';

/** Absolute lifetime of a session. */
export const SESSION_TTL_MS = 12 * 3600_000;
/** A session unused this long ends. */
export const SESSION_IDLE_MS = 3600_000;
/** Last use is written at most this often per session. */
const TOUCH_EVERY_MS = 60_000;
/** Sessions kept at most (the oldest go first): bounds what a flood of logins can store. */
const MAX_SESSIONS = 1000;

/** A session as listed: no secret. */
export interface DashboardSession {
  /** Public id (`ses_…`), time-sortable, what `session revoke` takes. */
  id: string;
  readOnly: boolean;
  createdAt: string;
  lastSeenAt: string;
  /** Absolute end. */
  expiresAt: string;
  /** End if it stays unused (lastSeenAt + idle period, never past expiresAt). */
  idleExpiresAt: string;
}

interface StoredSession {
  id: string;
  readOnly: boolean;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

const hash = (label: string, secret: string): string => createHash('sha256').update(`${label}\0${secret}`, 'utf8').digest('hex');

/** The CSRF token of a session: derived from its secret, never stored. */
export function csrfOf(secret: string): string {
  return Buffer.from(hash('csrf', secret), 'hex').toString('base64url');
}

function shown(s: StoredSession): DashboardSession {
  return {
    id: s.id, readOnly: s.readOnly,
    createdAt: new Date(s.createdAt).toISOString(),
    lastSeenAt: new Date(s.lastSeenAt).toISOString(),
    expiresAt: new Date(s.expiresAt).toISOString(),
    idleExpiresAt: new Date(Math.min(s.expiresAt, s.lastSeenAt + SESSION_IDLE_MS)).toISOString(),
  };
}

/** The session table. Get it from {@link TokenStore.sessions}. */
export class SessionTable {
  readonly #env: RootDatabase;
  /** Key: hash of the secret. */
  readonly #db: Database<StoredSession, string>;
  readonly #now: () => number;
  /** Touches written but perhaps not yet committed, by key. */
  readonly #touched = new Map<string, number>();

  constructor(env: RootDatabase, now: () => number = Date.now) {
    this.#env = env;
    this.#db = env.openDB<StoredSession, string>('sessions', {});
    this.#now = now;
  }

  /** A new session; resolves once stored. Returns its secret (the cookie's value) and what the page needs. */
  async open(readOnly: boolean): Promise<{ secret: string; csrfToken: string; session: DashboardSession }> {
    const now = this.#now();
    const secret = randomBytes(32).toString('base64url');
    const s: StoredSession = { id: newId('ses', now), readOnly, createdAt: now, lastSeenAt: now, expiresAt: now + SESSION_TTL_MS };
    await this.#env.childTransaction(() => {
      const all = this.#entries();
      for (const [key, v] of all) if (!this.#live(v, now)) void this.#db.remove(key);
      const live = all.filter(([, v]) => this.#live(v, now)).sort((a, b) => (a[1].id < b[1].id ? -1 : 1));
      for (const [key] of live.slice(0, Math.max(0, live.length - MAX_SESSIONS + 1))) void this.#db.remove(key);
      void this.#db.put(hash('session', secret), s);
    });
    await this.#env.flushed;
    return { secret, csrfToken: csrfOf(secret), session: shown(s) };
  }

  /**
   * The live session of a cookie's secret, or undefined (unknown, revoked, expired or idle too long);
   * records its use. Reads a fresh snapshot: a revoke from the CLI counts on the next request.
   */
  use(secret: string | undefined): (DashboardSession & { csrfToken: string }) | undefined {
    if (secret === undefined || secret.length > 200) return undefined;
    this.#env.resetReadTxn();
    const key = hash('session', secret);
    const stored = this.#db.get(key);
    if (stored === undefined) return undefined;
    // A touch written a moment ago may not be readable yet: the later of the two counts.
    const s = { ...stored, lastSeenAt: Math.max(stored.lastSeenAt, this.#touched.get(key) ?? 0) };
    const now = this.#now();
    // Expired sessions are left for the sweep of the next login: no write on a refused request.
    if (!this.#live(s, now)) return undefined;
    if (now - s.lastSeenAt >= TOUCH_EVERY_MS) {
      s.lastSeenAt = now;
      this.#touched.set(key, now);
      // Not awaited: a lost touch only shortens the idle window by a minute. Written only if the
      // session is still there, so a revoke or logout meanwhile is not undone.
      this.#env.childTransaction(() => {
        if (this.#db.get(key) !== undefined) void this.#db.put(key, s);
      }).then(() => {
        if (this.#touched.get(key) === now) this.#touched.delete(key);
      }, () => undefined);
    }
    return { ...shown(s), csrfToken: csrfOf(secret) };
  }

  /** Ends the session of a cookie's secret (logout); nothing when there is none. */
  async close(secret: string): Promise<void> {
    this.#touched.delete(hash('session', secret));
    await this.#db.remove(hash('session', secret));
  }

  /** Live sessions, oldest first. */
  list(): DashboardSession[] {
    this.#env.resetReadTxn();
    const now = this.#now();
    return this.#entries().map(([key, v]) => ({ ...v, lastSeenAt: Math.max(v.lastSeenAt, this.#touched.get(key) ?? 0) }))
      .filter((v) => this.#live(v, now))
      .sort((a, b) => (a.id < b.id ? -1 : 1)).map(shown);
  }

  /**
   * Ends a session by its public id: its page is logged out on its next request.
   * @throws NotFoundError when there is none.
   */
  async revoke(id: string): Promise<DashboardSession> {
    const found = await this.#env.childTransaction(() => {
      const e = this.#entries().find(([, v]) => v.id === id);
      if (e !== undefined) void this.#db.remove(e[0]);
      return e?.[1];
    });
    if (found === undefined) throw new NotFoundError(`no session '${id}'`);
    await this.#env.flushed;
    return shown(found);
  }

  #live(s: StoredSession, now: number): boolean {
    return s.expiresAt > now && now - s.lastSeenAt < SESSION_IDLE_MS;
  }

  #entries(): Array<[string, StoredSession]> {
    return [...this.#db.getRange({}).map(({ key, value }) => [key, value] as [string, StoredSession])];
  }
}
