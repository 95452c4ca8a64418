/**
 * The real binary: `token create|list|revoke` on a data directory, and a daemon serving HTTPS with
 * `--http 127.0.0.1:0 --tls-cert --tls-key` that a token opens and a revoke closes at once.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DaemonHandle, expectUsageError, rae, startDaemon } from '../cli/harness';
import { rawRequest } from './validating-client';

jest.setTimeout(120_000);

let dir: string;
const cli = (...args: string[]) => rae([...args, '--data-dir', dir]);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rae-tls-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('creates, lists and revokes tokens without a daemon; the secret is shown once and never listed', async () => {
  const made = await cli('token', 'create', 'ci-bot', '--json');
  expect(made.code).toBe(0);
  const token = JSON.parse(made.stdout) as { token: string; id: string; readOnly: boolean };
  expect(token.token).toMatch(/^rae_[A-Za-z0-9_-]{43}$/);
  expect(token.readOnly).toBe(false);
  expect((await cli('token', 'create', 'viewer', '--read-only')).stdout.trim()).toMatch(/^rae_/);
  const list = await cli('token', 'list', '--json');
  const tokens = JSON.parse(list.stdout) as Array<{ name: string; readOnly: boolean }>;
  expect(tokens.map((t) => [t.name, t.readOnly])).toEqual([['ci-bot', false], ['viewer', true]]);
  expect(list.stdout).not.toContain(token.token);
  // Stored hashed: the secret is nowhere in the store file.
  expect((await readFile(join(dir, 'store', 'data.mdb'))).includes(Buffer.from(token.token))).toBe(false);
  expect((await cli('token', 'create', 'ci-bot')).code).toBe(1);
  expectUsageError(await cli('token', 'create', 'bad name'), 'NAME');
  expect((await cli('token', 'revoke', 'viewer')).code).toBe(0);
  expect((await cli('token', 'revoke', 'viewer')).code).toBe(1);
});

it('refuses --tls-cert without --tls-key, and a malformed --http', async () => {
  expectUsageError(await cli('daemon', '--http', '127.0.0.1:7070', '--tls-cert', 'x.pem'), '--tls-key');
  expectUsageError(await cli('daemon', '--http', 'localhost:99999'), '--http');
});

it('serves HTTPS with a token; a revoked token is refused on its next request', async () => {
  let hasOpenssl = true;
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    hasOpenssl = false;
  }
  if (!hasOpenssl) {
    console.log('skipped: no openssl binary to make a test certificate');
    return;
  }
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const token = JSON.parse((await cli('token', 'create', 'https-client', '--json')).stdout) as { token: string };
  let daemon: DaemonHandle | undefined;
  try {
    daemon = await startDaemon(dir, ['--http', '127.0.0.1:0', '--tls-cert', cert, '--tls-key', key, '--grace', '1s']);
    // Asked over the socket (the daemon's log is written asynchronously).
    const url = new URL((JSON.parse((await cli('dashboard', '--no-open', '--json')).stdout) as { url: string }).url).origin;
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const target = { url, ca: await readFile(cert) };
    const auth = { authorization: `Bearer ${token.token}` };
    expect((await rawRequest(target, 'GET', '/v1/health', { headers: auth })).status).toBe(200);
    expect((await rawRequest(target, 'GET', '/v1/health')).status).toBe(401);
    expect((await cli('token', 'revoke', 'https-client')).code).toBe(0);
    expect((await rawRequest(target, 'GET', '/v1/health', { headers: auth })).status).toBe(401);
  } finally {
    await daemon?.stop();
  }
});

it('refuses job names with control characters on the library path too (offline CLI), printing none of them', async () => {
  for (const name of ['red\u001b[31m', 'bell\u0007', 'x\u0001y']) {
    const r = await cli('add', name, 'never', 'true');
    expectUsageError(r, 'name: must not contain control characters');
    // eslint-disable-next-line no-control-regex
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  }
  expect(JSON.parse((await cli('list', '--json')).stdout)).toEqual([]);
});
