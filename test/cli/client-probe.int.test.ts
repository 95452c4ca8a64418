/**
 * The CLI's daemon probe keeps its connection for the first request (src/cli/client.ts). An error
 * on that connection before the request takes it (the daemon went away in between) must neither
 * crash the process (an 'error' event with no listener throws) nor fail the request: the request
 * opens a fresh connection.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectDaemon, RemoteScheduler } from '../../src/cli/client';
import { API_PREFIX } from '../../src/cli/api-path';

describe('the kept probe connection', () => {
  let dir: string;
  let server: Server;
  const paths: string[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rae-probe-'));
    server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: 'job_x', name: 'x' }));
    });
    await new Promise<void>((r) => server.listen(path.join(dir, 's.sock'), r));
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('survives an error before its first request, which then goes over a fresh connection', async () => {
    const sock = path.join(dir, 's.sock');
    const kept = await connectDaemon(sock);
    expect(kept).not.toBeNull();
    // What the kernel reports when the peer resets the connection before it is used.
    kept!.emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    expect(kept!.destroyed).toBe(true);
    const remote = new RemoteScheduler(sock, kept);
    await expect(remote.getJob('x')).resolves.toMatchObject({ id: 'job_x' });
    expect(paths).toEqual([`${API_PREFIX}/jobs/x`]);
    await remote.shutdown();
  });

  it('uses the kept connection when nothing happened to it', async () => {
    const sock = path.join(dir, 's.sock');
    const kept = await connectDaemon(sock);
    const remote = new RemoteScheduler(sock, kept);
    await expect(remote.getJob('y')).resolves.toMatchObject({ id: 'job_x' });
    await remote.shutdown();
  });
});
