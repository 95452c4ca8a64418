/**
 * The HTTP API on a real Unix socket and a real TCP port (in front of an in-memory Scheduler): every
 * route checked against the OpenAPI document (requests and answers), auth on TCP, body limits, slow
 * clients, pagination, SSE resume, bad URLs.
 */
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'node:http';
import { ControlServer } from '../../src/cli/server';
import { TokenStore } from '../../src/actors/persistence/tokens';
import { openApiDocument } from '../../src/http/openapi';
import type { Logger } from '../../src/api';
import type { Job } from '../../src/model/job';
import { MemoryScheduler } from '../cli/memory-scheduler';
import { eventually } from '../cli/harness';
import { allOperations, api, exercised, rawRequest, type Target } from './validating-client';

jest.setTimeout(60_000);

let dir: string;
let mem: MemoryScheduler;
let server: ControlServer;
let tokens: TokenStore;
let full: string;
let readOnly: string;
let unix: Target;
let tcp: Target;
const logged: Array<{ level: string; obj: object; msg?: string }> = [];
const logger: Logger = {
  debug: () => undefined,
  info: (obj, msg) => logged.push({ level: 'info', obj, msg }),
  warn: (obj, msg) => logged.push({ level: 'warn', obj, msg }),
  error: (obj, msg) => logged.push({ level: 'error', obj, msg }),
};
const spec = (name: string) => ({ name, schedule: 'every 1h', command: { argv: ['echo', name] } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rae-api-'));
  tokens = TokenStore.open(dir);
  full = (await tokens.create('full')).token;
  readOnly = (await tokens.create('viewer', { readOnly: true })).token;
  mem = new MemoryScheduler();
  server = await ControlServer.start(mem, join(dir, 'rae-sched.sock'), logger, {
    http: { port: 0, dataDir: dir, timeouts: { headersMs: 1000, requestMs: 2000, idleMs: 30_000 } },
  });
  unix = { socketPath: server.socketPath };
  tcp = { url: server.httpUrl! };
});

afterAll(async () => {
  await server.close();
  await tokens.close();
  await rm(dir, { recursive: true, force: true });
});

describe('routes, checked against the OpenAPI document', () => {
  it('serves the document it was generated from, equal to the committed docs/openapi.json', async () => {
    const res = await api(unix, 'GET', '/v1/openapi.json');
    expect(res.json).toEqual(openApiDocument());
    const committed = JSON.parse(readFileSync(resolve(__dirname, '../../../docs/openapi.json'), 'utf8')) as unknown;
    // If this fails after a schema change: `npm run openapi` rewrites docs/openapi.json.
    expect(committed).toEqual(openApiDocument());
  });

  it('drives a job through every job route on both listeners', async () => {
    for (const [t, token] of [[unix, undefined], [tcp, full]] as const) {
      const name = 'socket' in t ? 'on-socket' : 'on-tcp';
      expect((await api(t, 'POST', '/v1/jobs', { body: spec(name), token })).status).toBe(201);
      expect((await api(t, 'GET', `/v1/jobs/${name}`, { token })).status).toBe(200);
      expect((await api(t, 'GET', '/v1/jobs?limit=5', { token })).status).toBe(200);
      expect((await api(t, 'POST', `/v1/jobs/${name}/pause`, { token })).status).toBe(200);
      expect((await api(t, 'POST', `/v1/jobs/${name}/resume`, { token })).status).toBe(200);
      const run = await api(t, 'POST', `/v1/jobs/${name}/run`, { token });
      expect(run.status).toBe(202);
      const runId = (run.json as { id: string }).id;
      const wait = api(t, 'GET', `/v1/runs/${runId}/wait`, { token });
      await eventually(async () => (mem.runs.has(runId) ? true : undefined), 'the run');
      setTimeout(() => mem.finish(runId, 'succeeded'), 200);
      expect((await wait).json).toMatchObject({ id: runId, status: 'succeeded' });
      expect((await api(t, 'GET', `/v1/jobs/${name}/history?limit=5&output=false`, { token })).status).toBe(200);
      expect((await api(t, 'GET', `/v1/jobs/${name}/why`, { token })).status).toBe(200);
      expect((await api(t, 'GET', `/v1/jobs/${name}/next?count=3`, { token })).json).toEqual({ next: expect.any(Array) });
      expect((await api(t, 'GET', '/v1/health', { token })).status).toBe(200);
      expect((await api(t, 'GET', '/v1/stats', { token })).status).toBe(200);
      expect((await api(t, 'GET', '/v1/metrics', { token })).text).toContain('rae_http_requests_total');
      const backup = await api(t, 'GET', '/v1/backup', { token });
      expect((await api(t, 'POST', '/v1/restore', { body: backup.json, token })).status).toBe(200);
      expect((await api(t, 'DELETE', `/v1/jobs/${name}`, { token })).status).toBe(200);
      expect((await api(t, 'GET', `/v1/jobs/${name}`, { token })).status).toBe(404);
    }
  });

  it('answers errors as {"error": {code, message, field}} with their status', async () => {
    await api(unix, 'POST', '/v1/jobs', { body: spec('dup') });
    expect((await api(unix, 'POST', '/v1/jobs', { body: spec('dup') })).status).toBe(409);
    const bad = await rawRequest(unix, 'POST', '/v1/jobs', { body: JSON.stringify({ ...spec('x'), priority: 'high' }) });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ error: { name: 'ValidationError', code: 'VALIDATION', field: 'priority', message: 'priority: must be integer' } });
    const unknown = await rawRequest(unix, 'POST', '/v1/jobs', { body: JSON.stringify({ ...spec('x'), colour: 'red' }) });
    expect(unknown.json).toMatchObject({ error: { code: 'VALIDATION', field: 'colour', message: 'colour: is not a known field' } });
    await api(unix, 'DELETE', '/v1/jobs/dup');
  });

  it('answers a badly percent-encoded path 400, without logging a stack trace', async () => {
    logged.length = 0;
    const res = await api(unix, 'GET', '/v1/jobs/%E0%A4%A', { invalid: true });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: { code: 'VALIDATION', field: 'path' } });
    expect(logged.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('pages through lists with limit and the after cursor (Link rel="next")', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push(((await api(unix, 'POST', '/v1/jobs', { body: spec(`p${i}`) })).json as Job).id);
    const seen: string[] = [];
    let path: string | null = '/v1/jobs?limit=10';
    let pages = 0;
    while (path !== null) {
      const res: Awaited<ReturnType<typeof api>> = await api(unix, 'GET', path);
      // Unfiltered pages come from the scheduler's paged read: no total (it would cost a full read).
      expect(res.headers['x-total-count']).toBeUndefined();
      seen.push(...(res.json as Job[]).map((j) => j.id));
      pages++;
      path = /<([^>]+)>; rel="next"/.exec(String(res.headers.link ?? ''))?.[1] ?? null;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
    // A cursor whose job was removed meanwhile still leads to the next one.
    const first10 = await api(unix, 'GET', '/v1/jobs?limit=10');
    const cursor = /[?&]after=([^&>]+)/.exec(String(first10.headers.link))![1]!;
    await api(unix, 'DELETE', `/v1/jobs/${ids[9]}`);
    const after = await api(unix, 'GET', `/v1/jobs?limit=2&after=${cursor}`);
    expect((after.json as Job[]).map((j) => j.id)).toEqual([ids[10], ids[11]]);
    // A filtered list pages with the same cursors.
    const f1 = await api(unix, 'GET', '/v1/jobs?q=p&limit=20');
    const fc = /[?&]after=([^&>]+)/.exec(String(f1.headers.link))![1]!;
    expect(((await api(unix, 'GET', `/v1/jobs?q=p&limit=20&after=${fc}`)).json as Job[]).length).toBe(4);
    // Filters apply before paging.
    const found = await api(unix, 'GET', '/v1/jobs?q=P2&limit=100');
    expect(found.headers['x-total-count']).toBe('6');
    expect((found.json as Job[]).map((j) => j.name).sort()).toEqual(['p2', 'p20', 'p21', 'p22', 'p23', 'p24']);
    expect((await api(unix, 'GET', '/v1/jobs?limit=0', { invalid: true })).status).toBe(400);
    expect((await api(unix, 'GET', '/v1/jobs?limit=10001', { invalid: true })).status).toBe(400);
    expect((await api(unix, 'GET', '/v1/jobs?limit=5&after=nonsense', { invalid: true })).status).toBe(400);
    // Runs, newest first.
    const runs: string[] = [];
    for (let i = 0; i < 5; i++) runs.push(((await api(unix, 'POST', '/v1/jobs/p0/run')).json as { id: string }).id);
    const first = await api(unix, 'GET', '/v1/jobs/p0/history?limit=2');
    expect((first.json as Array<{ id: string }>).map((r) => r.id)).toEqual([runs[4], runs[3]]);
    const next = /<([^>]+)>; rel="next"/.exec(String(first.headers.link))![1]!;
    expect(((await api(unix, 'GET', next)).json as Array<{ id: string }>).map((r) => r.id)).toEqual([runs[2], runs[1]]);
    for (const id of ids) if (id !== ids[9]) await api(unix, 'DELETE', `/v1/jobs/${id}`);
  });
});

describe('auth on TCP', () => {
  const failures = async (reason: string): Promise<number> => {
    const text = (await api(unix, 'GET', '/v1/metrics')).text;
    return Number(new RegExp(`rae_http_auth_failures_total\\{reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };

  it('refuses no token, a bad token and a revoked token alike (401, nothing detailed), and counts them', async () => {
    const before = { missing: await failures('missing'), bad: await failures('bad-token') };
    const none = await api(tcp, 'GET', '/v1/jobs');
    const bad = await api(tcp, 'GET', '/v1/jobs', { token: 'rae_not-a-real-token' });
    const temp = await tokens.create('temp');
    expect((await api(tcp, 'GET', '/v1/jobs', { token: temp.token })).status).toBe(200);
    await tokens.revoke('temp');
    const revoked = await api(tcp, 'GET', '/v1/jobs', { token: temp.token });
    for (const r of [none, bad, revoked]) {
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ error: { name: 'UnauthorizedError', code: 'UNAUTHORIZED', message: 'authentication required' } });
    }
    expect(await failures('missing')).toBe(before.missing + 1);
    expect(await failures('bad-token')).toBe(before.bad + 2);
    expect(logged.some((l) => l.msg === 'http request refused' && (l.obj as { reason: string }).reason === 'bad-token')).toBe(true);
    // The secret never reaches the log.
    expect(JSON.stringify(logged)).not.toContain(temp.token);
  });

  it('lets a read-only token read but not write', async () => {
    expect((await api(tcp, 'GET', '/v1/jobs', { token: readOnly })).status).toBe(200);
    for (const [method, path, body] of [
      ['POST', '/v1/jobs', spec('ro')], ['POST', '/v1/restore', { format: 'rae-sched-backup', version: 1 }],
      ['GET', '/v1/backup', undefined],
    ] as const) {
      const res = await api(tcp, method, path, { token: readOnly, ...(body ? { body } : {}) });
      expect(res.status).toBe(403);
      expect(res.json).toMatchObject({ error: { code: 'FORBIDDEN' } });
    }
    expect(mem.jobs.size === 0 || ![...mem.jobs.values()].some((j) => j.name === 'ro')).toBe(true);
  });

  it('keeps login codes on the socket: TCP does not have the route', async () => {
    expect((await rawRequest(tcp, 'POST', '/v1/login-codes', { body: '{}', headers: { authorization: `Bearer ${full}` } })).status).toBe(404);
  });

  it('trades a one-time code for an HttpOnly SameSite=Strict cookie; cookie writes need the CSRF token', async () => {
    const code = await api(unix, 'POST', '/v1/login-codes', { body: {} });
    const { code: c, url } = code.json as { code: string; url: string };
    expect(url).toBe(`${server.httpUrl}/#code=${c}`);
    const opened = await api(tcp, 'POST', '/v1/session', { body: { code: c } });
    expect(opened.status).toBe(201);
    const setCookie = String(opened.headers['set-cookie']);
    expect(setCookie).toMatch(/^rae_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict/);
    const cookie = setCookie.split(';')[0]!;
    const { csrfToken } = opened.json as { csrfToken: string };
    expect((await api(tcp, 'POST', '/v1/session', { body: { code: c } })).status).toBe(401);
    expect((await api(tcp, 'GET', '/v1/session', { headers: { cookie } })).json).toMatchObject({ csrfToken });
    expect((await api(tcp, 'POST', '/v1/jobs', { body: spec('c1'), headers: { cookie } })).status).toBe(403);
    expect((await api(tcp, 'POST', '/v1/jobs', { body: spec('c1'), headers: { cookie, 'x-csrf-token': 'wrong' } })).status).toBe(403);
    expect((await api(tcp, 'POST', '/v1/jobs', { body: spec('c1'), headers: { cookie, 'x-csrf-token': csrfToken } })).status).toBe(201);
    expect((await api(tcp, 'DELETE', '/v1/session', { headers: { cookie } })).status).toBe(200);
    expect((await api(tcp, 'GET', '/v1/jobs', { headers: { cookie } })).status).toBe(401);
    await api(unix, 'DELETE', '/v1/jobs/c1');
  });

  it('lists stored dashboard sessions a page at a time (no secrets) and revokes one: its cookie gets 401', async () => {
    const open = async (): Promise<string> => {
      const { code } = (await api(unix, 'POST', '/v1/login-codes', { body: { readOnly: true } })).json as { code: string };
      const opened = await api(tcp, 'POST', '/v1/session', { body: { code } });
      expect(opened.json).toMatchObject({ readOnly: true });
      return String(opened.headers['set-cookie']).split(';')[0]!;
    };
    const [c1, c2] = [await open(), await open()];
    const first = await api(unix, 'GET', '/v1/sessions?limit=1');
    expect(first.headers.link).toMatch(/rel="next"/);
    const all = (await api(tcp, 'GET', '/v1/sessions', { token: full })).json as Array<{ id: string; readOnly: boolean }>;
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(all)).not.toContain(c1.split('=')[1]);
    // Read-only credentials do not see who is logged in.
    expect((await api(tcp, 'GET', '/v1/sessions', { token: readOnly })).status).toBe(403);
    expect((await api(tcp, 'GET', '/v1/jobs', { headers: { cookie: c2 } })).status).toBe(200);
    const newest = all[all.length - 1]!;
    expect((await api(tcp, 'DELETE', `/v1/sessions/${newest.id}`, { token: full })).json).toMatchObject({ id: newest.id });
    expect((await api(tcp, 'GET', '/v1/jobs', { headers: { cookie: c2 } })).status).toBe(401);
    expect((await api(tcp, 'GET', '/v1/jobs', { headers: { cookie: c1 } })).status).toBe(200);
    expect((await api(unix, 'DELETE', `/v1/sessions/${newest.id}`)).status).toBe(404);
  });

  it('sends no CORS headers by default', async () => {
    const res = await rawRequest(tcp, 'GET', '/v1/health', { headers: { authorization: `Bearer ${full}`, origin: 'https://evil.example' } });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('limits', () => {
  it('answers an oversized job body 413 (not a dropped connection) and stores nothing', async () => {
    const huge = JSON.stringify({ ...spec('huge'), command: 'x'.repeat(2 * 1024 * 1024) });
    for (const [t, headers] of [[unix, {}], [tcp, { authorization: `Bearer ${full}` }]] as const) {
      const res = await rawRequest(t, 'POST', '/v1/jobs', { body: huge, headers: { 'content-type': 'application/json', ...headers } });
      expect(res.status).toBe(413);
      expect(res.json).toMatchObject({ error: { code: 'VALIDATION', field: 'body' } });
    }
    // Under the body limit but over a field bound: refused by the schema.
    const long = await api(unix, 'POST', '/v1/jobs', { body: spec('long') }).then(() =>
      rawRequest(unix, 'POST', '/v1/jobs', { body: JSON.stringify({ ...spec('long2'), command: 'y'.repeat(70_000) }) }));
    expect(long.json).toMatchObject({ error: { code: 'VALIDATION', field: 'command' } });
    expect([...mem.jobs.values()].some((j) => j.name === 'huge' || j.name === 'long2')).toBe(false);
    await api(unix, 'DELETE', '/v1/jobs/long');
  });

  it('takes a restore document larger than the job limit', async () => {
    const doc = { format: 'rae-sched-backup', version: 1, createdAt: new Date(0).toISOString(), jobs: [], runs: [], slots: [], pad: 'z'.repeat(3 * 1024 * 1024) };
    const res = await rawRequest(unix, 'POST', '/v1/restore', { body: JSON.stringify(doc), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
  });

  it('cuts off a client that sends its headers too slowly', async () => {
    const { port } = new URL(server.httpUrl!);
    const sock = connect(Number(port), '127.0.0.1');
    const closed = new Promise<string>((r) => {
      let got = '';
      sock.on('data', (c: Buffer) => (got += c.toString()));
      sock.on('close', () => r(got));
    });
    sock.write('GET /v1/health HTTP/1.1\r\nHost: x\r\n');
    // Never finish the headers: the server must give up on its own (headersMs: 1000 here).
    const answer = await closed;
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
  });

  it('cuts off a client that trickles its body (whole request bound, requestMs: 2000 here); nothing is stored', async () => {
    const { port } = new URL(server.httpUrl!);
    const sock = connect(Number(port), '127.0.0.1');
    const body = JSON.stringify(spec('trickled'));
    const closed = new Promise<string>((r) => {
      let got = '';
      sock.on('data', (c: Buffer) => (got += c.toString()));
      sock.on('close', () => r(got));
      sock.on('error', () => undefined);
    });
    sock.write(`POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${full}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
    // One byte every 200 ms: the body would take minutes; the server gives up on its own.
    let i = 0;
    const drip = setInterval(() => { if (i < body.length - 1 && !sock.destroyed) sock.write(body[i++]!); }, 200);
    const answer = await closed;
    clearInterval(drip);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
    expect(i).toBeLessThan(body.length - 1);
    expect([...mem.jobs.values()].some((j) => j.name === 'trickled')).toBe(false);
  });
});

describe('events', () => {
  /** Opens the SSE stream and collects messages until `until` holds. */
  function sse(target: Target, headers: Record<string, string>, until: (msgs: string[]) => boolean): Promise<string[]> {
    return new Promise((resolveMsgs, reject) => {
      const u = new URL('/v1/events', 'url' in target ? target.url : 'http://x');
      const req = request('socketPath' in target ? { socketPath: target.socketPath, path: '/v1/events', headers, agent: false } : { host: u.hostname, port: u.port, path: u.pathname, headers, agent: false }, (res) => {
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toContain('text/event-stream');
        exercised.add('events');
        let buf = '';
        const msgs: string[] = [];
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          buf += c;
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            msgs.push(buf.slice(0, i));
            buf = buf.slice(i + 2);
          }
          if (until(msgs)) {
            req.destroy();
            resolveMsgs(msgs);
          }
        });
      });
      req.on('error', (e) => (e.message === 'socket hang up' ? undefined : reject(e)));
      req.end();
    });
  }
  const dataOf = (m: string) => JSON.parse(/^data: (.*)$/m.exec(m)![1]!) as { type: string; deltaMs?: number };
  const idOf = (m: string) => /^id: (.*)$/m.exec(m)?.[1];

  it('streams SSE with ids, and resumes after Last-Event-ID with what was missed', async () => {
    const first = sse(unix, {}, (msgs) => msgs.filter((m) => idOf(m) !== undefined).length >= 2);
    await eventually(async () => (server.openStreams > 0 ? true : undefined), 'the stream');
    mem.emit({ type: 'clock.jumped', at: new Date().toISOString(), deltaMs: 1 });
    mem.emit({ type: 'clock.jumped', at: new Date().toISOString(), deltaMs: 2 });
    const got = (await first).filter((m) => idOf(m) !== undefined);
    expect(got.map((m) => dataOf(m).deltaMs)).toEqual([1, 2]);
    const lastSeen = idOf(got[0]!)!;
    // Missed while disconnected: 3 and 4 (and 2, which came after the id we resume from).
    mem.emit({ type: 'clock.jumped', at: new Date().toISOString(), deltaMs: 3 });
    mem.emit({ type: 'clock.jumped', at: new Date().toISOString(), deltaMs: 4 });
    const resumed = await sse(tcp, { authorization: `Bearer ${full}`, 'last-event-id': lastSeen },
      (msgs) => msgs.filter((m) => idOf(m) !== undefined).length >= 3);
    expect(resumed.filter((m) => idOf(m) !== undefined).map((m) => dataOf(m).deltaMs)).toEqual([2, 3, 4]);
  });

  it('says `event: gap` for an id it no longer has (another daemon life)', async () => {
    const msgs = await sse(unix, { 'last-event-id': 'deadbeef.5' }, (m) => m.some((x) => x.includes('event: gap')));
    expect(msgs.some((m) => m.startsWith('event: gap'))).toBe(true);
  });
});

describe('coverage', () => {
  it('exercised every operation of the document', () => {
    expect(allOperations.filter((op) => !exercised.has(op))).toEqual([]);
  });
});
