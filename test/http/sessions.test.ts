/**
 * Dashboard sessions are stored (hashed) in the data directory's LMDB store: idle and absolute
 * expiry on an injected clock, no secret or CSRF token on disk, a daemon restart keeps a page logged
 * in, and a revoked session is refused on its next request and its open event stream ends.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { ControlServer } from '../../src/cli/server';
import { TokenStore } from '../../src/actors/persistence/tokens';
import { SESSION_IDLE_MS, SESSION_TTL_MS } from '../../src/actors/persistence/sessions';
import { storePath } from '../../src/actors/persistence/tables';
import { MemoryScheduler } from '../cli/memory-scheduler';
import { api } from './validating-client';

jest.setTimeout(60_000);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rae-sessions-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the session table', () => {
  it('ends a session after an hour unused or 12 hours after login, and keeps one in use', async () => {
    let now = Date.parse('2026-12-01T08:00:00Z');
    const store = TokenStore.open(dir, () => now);
    try {
      const a = await store.sessions.open(false);
      const b = await store.sessions.open(true);
      // In use every 30 minutes: alive past the idle period, until the absolute end.
      for (let t = 0; t < SESSION_TTL_MS - SESSION_IDLE_MS / 2; t += SESSION_IDLE_MS / 2) {
        now += SESSION_IDLE_MS / 2;
        expect(store.sessions.use(a.secret)).toMatchObject({ id: a.session.id, csrfToken: a.csrfToken, readOnly: false });
      }
      // b was not used: gone after the idle hour, like an unknown secret.
      expect(store.sessions.use(b.secret)).toBeUndefined();
      expect(store.sessions.list().map((s) => s.id)).toEqual([a.session.id]);
      now = Date.parse(a.session.expiresAt);
      expect(store.sessions.use(a.secret)).toBeUndefined();
      expect(store.sessions.use('not-a-session')).toBeUndefined();
      expect(store.sessions.list()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('stores neither the secret nor the CSRF token', async () => {
    const store = TokenStore.open(dir);
    const s = await store.sessions.open(false);
    await store.close();
    const raw = readFileSync(join(storePath(dir), 'data.mdb')).toString('latin1');
    expect(raw).not.toContain(s.secret);
    expect(raw).not.toContain(s.csrfToken);
    expect(raw).toContain(s.session.id);
  });
});

describe('sessions and the daemon', () => {
  async function serve(): Promise<ControlServer> {
    return ControlServer.start(new MemoryScheduler(), join(dir, 'rae-sched.sock'), undefined, {
      http: { port: 0, dataDir: dir, eventHeartbeatMs: 100 },
    });
  }
  async function login(server: ControlServer): Promise<string> {
    const { code } = (await api({ socketPath: server.socketPath }, 'POST', '/v1/login-codes', { body: {} })).json as { code: string };
    const opened = await api({ url: server.httpUrl! }, 'POST', '/v1/session', { body: { code } });
    expect(opened.status).toBe(201);
    return String(opened.headers['set-cookie']).split(';')[0]!;
  }

  it('keeps a page logged in across a restart; a revoked session is refused and its event stream ends', async () => {
    let server = await serve();
    const cookie = await login(server);
    const before = (await api({ url: server.httpUrl! }, 'GET', '/v1/session', { headers: { cookie } })).json as { csrfToken: string };
    await server.close();

    server = await serve();
    try {
      const tcp = { url: server.httpUrl! };
      const after = await api(tcp, 'GET', '/v1/session', { headers: { cookie } });
      expect(after.status).toBe(200);
      expect(after.json).toMatchObject({ csrfToken: before.csrfToken });

      // An open event stream with that cookie ends once the session is revoked (`rae-sched session revoke`).
      const u = new URL('/v1/events', server.httpUrl!);
      const ended = new Promise<number>((resolveEnd, reject) => {
        const req = request({ host: u.hostname, port: u.port, path: u.pathname, headers: { cookie }, agent: false }, (res) => {
          expect(res.statusCode).toBe(200);
          res.resume();
          res.on('end', () => resolveEnd(Date.now()));
        });
        req.on('error', reject);
        req.end();
      });
      while (server.openStreams === 0) await new Promise((r) => setTimeout(r, 20));
      const store = TokenStore.open(dir);
      const [s] = store.sessions.list();
      await store.sessions.revoke(s!.id);
      await store.close();
      await ended;
      expect(server.openStreams).toBe(0);
      expect((await api(tcp, 'GET', '/v1/jobs', { headers: { cookie } })).status).toBe(401);

      // Logout ends a session the same way.
      const other = await login(server);
      expect((await api(tcp, 'DELETE', '/v1/session', { headers: { cookie: other } })).status).toBe(200);
      expect((await api(tcp, 'GET', '/v1/session', { headers: { cookie: other } })).status).toBe(401);
    } finally {
      await server.close();
    }
  });
});
