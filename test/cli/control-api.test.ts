/**
 * The control API over a real Unix socket: server routes, status codes, typed errors, streams —
 * served from the real Scheduler (threads, LMDB, processes) on a virtual clock.
 */
import { request } from 'node:http';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, take, toArray } from 'rxjs';
import { ControlServer } from '../../src/cli/server';
import { RemoteScheduler } from '../../src/cli/client';
import { SchedulerError } from '../../src/errors';
import { createScheduler, type Scheduler } from '../../src/index';
import { VirtualClock } from '../../src/testing';
import { eventually } from './harness';

interface Raw { status: number; type: string; body: string }

function raw(socketPath: string, method: string, path: string, body?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SchedulerError);
    return (e as SchedulerError).code;
  }
  throw new Error('expected a rejection');
}

describe('control API', () => {
  let dir: string;
  let sock: string;
  let clock: VirtualClock;
  let real: Scheduler;
  let server: ControlServer;
  let client: RemoteScheduler;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rae-ctl-'));
    sock = join(dir, 'rae-sched.sock');
    clock = new VirtualClock(Date.parse('2030-01-01T00:00:00Z'));
    real = await createScheduler({ dataDir: join(dir, 'data'), clock });
    server = await ControlServer.start(real, sock);
    client = new RemoteScheduler(sock);
  });
  afterEach(async () => {
    await server.close();
    await real.shutdown({ graceMs: 0 });
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the socket to its owner only (mode 0600)', async () => {
    expect((await stat(sock)).mode & 0o777).toBe(0o600);
  });

  it('round-trips the job lifecycle through the client', async () => {
    const job = await client.addJob({ name: 'tick', schedule: 'every 1s', command: { argv: ['echo', 'hi'] } });
    expect(job.name).toBe('tick');
    expect((await client.getJob('tick')).id).toBe(job.id);
    expect((await client.pauseJob(job.id)).state).toBe('paused');
    expect((await client.resumeJob('tick')).state).toBe('scheduled');
    expect((await client.listJobs()).map((j) => j.name)).toEqual(['tick']);
    expect((await client.why('tick')).blockers).toEqual([]);
    await client.pauseJob('tick');
    expect((await client.why('tick')).blockers).toEqual(['the job is paused (rae-sched resume to restart it)']);
    await client.removeJob('tick');
    expect(await client.listJobs()).toEqual([]);
  });

  it('encodes names with URL-special characters in paths', async () => {
    // Spaces and slashes are refused in names (VALIDATION, through the wire too); ? # % : and non-ASCII are not.
    expect(await codeOf(client.addJob({ name: 'a/b c', schedule: 'never', command: 'true' }))).toBe('VALIDATION');
    const name = 'a?b#c%20d:é';
    await client.addJob({ name, schedule: 'never', command: 'true' });
    expect((await client.getJob(name)).name).toBe(name);
    expect((await client.pauseJob(name)).state).toBe('paused');
  });

  it('answers errors with their status and keeps the code across the wire', async () => {
    expect(await codeOf(client.getJob('nope'))).toBe('NOT_FOUND');
    await client.addJob({ name: 'x', schedule: 'never', command: 'true' });
    expect(await codeOf(client.addJob({ name: 'x', schedule: 'never', command: 'true' }))).toBe('CONFLICT');
    expect(await codeOf(client.addJob({ name: 'y', schedule: 'every banana', command: 'true' }))).toBe('VALIDATION');

    const missing = await raw(sock, 'GET', '/v1/jobs/nope');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).error).toMatchObject({ code: 'NOT_FOUND' });
    const conflict = await raw(sock, 'POST', '/v1/jobs', JSON.stringify({ name: 'x', schedule: 'never', command: 'true' }));
    expect(conflict.status).toBe(409);
  });

  it('validates request bodies where they enter, naming the field', async () => {
    const bad = await raw(sock, 'POST', '/v1/jobs', JSON.stringify({ name: 'x', schedule: 'never', command: 'true', retry: { maxRetries: -1 } }));
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toMatchObject({ code: 'VALIDATION', field: 'retry.maxRetries' });
    const unknown = await raw(sock, 'POST', '/v1/jobs', JSON.stringify({ name: 'x', schedule: 'never', colour: 'red' }));
    expect(JSON.parse(unknown.body).error).toMatchObject({ code: 'VALIDATION' });
    const notJson = await raw(sock, 'POST', '/v1/jobs', '{nope');
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body).error).toMatchObject({ code: 'VALIDATION', field: 'body' });
    expect(await real.listJobs()).toEqual([]);
  });

  it('checks ?limit and passes it on', async () => {
    await client.addJob({ name: 'x', schedule: 'never', command: 'true' });
    const bad = await raw(sock, 'GET', '/v1/jobs/x/history?limit=0');
    expect(JSON.parse(bad.body).error).toMatchObject({ code: 'VALIDATION', field: 'limit' });
    for (let i = 0; i < 4; i++) await client.runNow('x');
    expect(await client.history('x', { limit: 3 })).toHaveLength(3);
    expect(await client.history('x')).toHaveLength(4);
  });

  it('answers unknown routes 404', async () => {
    const res = await raw(sock, 'GET', '/v1/nothing');
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body).error.code).toBe('NOT_FOUND');
  });

  it('serves metrics as Prometheus text, and health and stats as JSON', async () => {
    await client.addJob({ name: 'x', schedule: 'never', command: 'true' });
    const res = await raw(sock, 'GET', '/v1/metrics');
    expect(res.type).toContain('text/plain; version=0.0.4');
    expect(await client.metrics()).toContain('rae_jobs{state="total"} 1');
    const health = await client.health();
    expect(health.healthy ? 'healthy' : JSON.stringify(health.components)).toBe('healthy');
    await clock.advance(5000);
    const stats = await client.stats();
    expect({ jobs: stats.jobs.total, uptimeMs: stats.uptimeMs }).toEqual({ jobs: 1, uptimeMs: 5000 });
  });

  it('run then wait resolves when the run is final', async () => {
    await client.addJob({ name: 'x', schedule: 'never', command: 'echo bye; exit 3' });
    const run = await client.runNow('x');
    expect(run.status).toBe('queued');
    expect(await client.waitForRun(run.id)).toMatchObject({ id: run.id, status: 'failed', exitCode: 3, output: 'bye\n' });
    // Already final: answered at once from the store.
    expect(await client.waitForRun(run.id)).toMatchObject({ id: run.id, status: 'failed' });
  });

  it('backs up and restores, refusing a bad document', async () => {
    await client.addJob({ name: 'x', schedule: 'never', command: 'true' });
    const doc = await client.backup();
    expect(doc.jobs).toHaveLength(1);
    expect(await client.restore(doc)).toEqual({ jobs: 1, runs: 0 });
    expect(await codeOf(client.restore({ format: 'zip' }))).toBe('VALIDATION');
  });

  it('streams events as NDJSON until the server closes', async () => {
    // The server subscribes once, at start (its event ring); wait for the client's stream instead.
    const got = firstValueFrom(client.events$.pipe(take(2), toArray()));
    await eventually(async () => (server.openStreams === 1 ? true : undefined), 'the stream to open');
    await client.addJob({ name: 'e', schedule: 'never', command: 'true' });
    await client.removeJob('e');
    expect((await got).map((e) => e.type)).toEqual(['job.added', 'job.removed']);

    await eventually(async () => (server.openStreams === 0 ? true : undefined), 'the first stream to close');
    const all = firstValueFrom(client.events$.pipe(toArray()));
    await eventually(async () => (server.openStreams === 1 ? true : undefined), 'the second stream to open');
    await server.close();
    expect(await all).toEqual([]);
    await expect(stat(sock)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses to start while a live server answers on the socket', async () => {
    expect(await codeOf(ControlServer.start(real, sock))).toBe('CONFLICT');
    const health = await client.health();
    expect(health.healthy ? 'healthy' : JSON.stringify(health.components)).toBe('healthy');
  });

  it('replaces a stale socket file and reports a missing daemon as DAEMON_UNAVAILABLE', async () => {
    const stalePath = join(dir, 'stale.sock');
    await writeFile(stalePath, '');
    expect(await codeOf(new RemoteScheduler(stalePath).health())).toBe('DAEMON_UNAVAILABLE');
    const second = await ControlServer.start(real, stalePath);
    try {
      expect((await new RemoteScheduler(stalePath).health()).healthy).toBe(true);
    } finally {
      await second.close();
    }
    expect(await codeOf(new RemoteScheduler(join(dir, 'none.sock')).listJobs())).toBe('DAEMON_UNAVAILABLE');
  });
});
