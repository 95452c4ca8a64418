/**
 * Commands of the HTTP API: `token create|list|revoke` (credentials for TCP clients, stored hashed in
 * the data directory's store; they work with or without a daemon), `session list|revoke` (the
 * dashboard's stored sessions, likewise) and `dashboard` (a one-time login URL for the web dashboard
 * of a daemon started with `--http`).
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { DaemonUnavailableError, ValidationError } from '../../errors';
import type { TokenStore } from '../../actors/persistence/tokens';
import { parseListenAddress } from '../../http/address';
import type { HttpOptions } from '../../http/server';
import { daemonAnswers } from '../client';
import { type CliContext, type CommonOptions, withCommonOptions } from '../context';
import { dataDirPaths } from '../paths';
import { request } from 'node:http';

/** The daemon's HTTP flags. */
export interface HttpFlags {
  http?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** The TCP listener options of `daemon --http ... [--tls-cert F --tls-key F]`, or undefined without `--http`. */
export function httpOptionsOf(flags: HttpFlags): Omit<HttpOptions, 'dataDir'> | undefined {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    throw new ValidationError('--tls-cert and --tls-key go together', flags.tlsCert === undefined ? '--tls-cert' : '--tls-key');
  }
  if (flags.http === undefined) {
    if (flags.tlsCert !== undefined) throw new ValidationError('--tls-cert: needs --http HOST:PORT', '--tls-cert');
    return undefined;
  }
  const { host, port } = parseListenAddress(flags.http);
  return { host, port, ...(flags.tlsCert && flags.tlsKey ? { tls: { cert: flags.tlsCert, key: flags.tlsKey } } : {}) };
}

async function withTokens<T>(ctx: CliContext, opts: CommonOptions, fn: (t: TokenStore) => Promise<T> | T): Promise<T> {
  // Loaded here: lmdb costs every other command start-up time.
  const { TokenStore: Tokens } = await import('../../actors/persistence/tokens');
  const tokens = Tokens.open(ctx.dataDir(opts));
  try {
    return await fn(tokens);
  } finally {
    await tokens.close();
  }
}

/** POSTs to the daemon's socket; the parsed answer, or the daemon's error. */
function socketPost(socketPath: string, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolvePost, reject) => {
    const payload = Buffer.from(JSON.stringify(body));
    const req = request({
      socketPath, path, method: 'POST', agent: false,
      headers: { 'content-type': 'application/json', 'content-length': payload.length },
    }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolvePost({ status: res.statusCode ?? 0, json: text === '' ? null : JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Registers `token`, `session` and `dashboard`. */
export function registerApiCommands(program: Command, ctx: CliContext): void {
  const token = program.command('token').description('API tokens for TCP clients of `daemon --http` (stored hashed; shown once)');
  withCommonOptions(token.command('create')
    .description('create a token and print it (the only time it is shown)')
    .argument('<name>', 'a name for the token (who or what uses it)')
    .option('--read-only', 'the token can read but not add, run, pause, resume, remove or restore'))
    .action(async (name: string, opts: CommonOptions & { readOnly?: boolean }) => {
      const made = await withTokens(ctx, opts, (t) => t.create(name, { readOnly: opts.readOnly ?? false }));
      ctx.print(opts, made, () => made.token);
    });
  withCommonOptions(token.command('list').description('tokens (names and ids; never the secrets)'))
    .action(async (opts: CommonOptions) => {
      const list = await withTokens(ctx, opts, (t) => t.list());
      ctx.print(opts, list, () => list.length === 0 ? 'no tokens'
        : ['NAME  ID  ACCESS  CREATED', ...list.map((t) => `${t.name}  ${t.id}  ${t.readOnly ? 'read-only' : 'read-write'}  ${t.createdAt}`)].join('\n'));
    });
  withCommonOptions(token.command('revoke').description('delete a token: requests with it are refused from now on')
    .argument('<token>', 'its name or id'))
    .action(async (ref: string, opts: CommonOptions) => {
      const gone = await withTokens(ctx, opts, (t) => t.revoke(ref));
      ctx.print(opts, gone, () => `revoked ${gone.name} (${gone.id})`);
    });

  const session = program.command('session').description('logged-in dashboard sessions (stored hashed; they outlive a daemon restart)');
  withCommonOptions(session.command('list').description('live sessions: id, access, last use, when they end'))
    .action(async (opts: CommonOptions) => {
      const list = await withTokens(ctx, opts, (t) => t.sessions.list());
      ctx.print(opts, list, () => list.length === 0 ? 'no sessions'
        : ['ID  ACCESS  CREATED  LAST SEEN  ENDS', ...list.map((s) => `${s.id}  ${s.readOnly ? 'read-only' : 'read-write'}  ${s.createdAt}  ${s.lastSeenAt}  ${s.idleExpiresAt}`)].join('\n'));
    });
  withCommonOptions(session.command('revoke').description('log a session out: its page is refused from its next request')
    .argument('<session>', 'its id (ses_...)'))
    .action(async (id: string, opts: CommonOptions) => {
      const gone = await withTokens(ctx, opts, (t) => t.sessions.revoke(id));
      ctx.print(opts, gone, () => `revoked ${gone.id}`);
    });

  withCommonOptions(program.command('dashboard')
    .description('print (and on a desktop open) a one-time login URL for the dashboard of a daemon started with --http')
    .option('--read-only', 'the session can look but not change anything')
    .option('--no-open', 'print the URL only'))
    .action(async (opts: CommonOptions & { readOnly?: boolean; open?: boolean }) => {
      const { socket } = dataDirPaths(ctx.dataDir(opts));
      if (!(await daemonAnswers(socket))) {
        throw new DaemonUnavailableError(`dashboard needs a running daemon, and none answers on ${socket} (start one with \`rae-sched daemon --http 127.0.0.1:7070\`)`);
      }
      const res = await socketPost(socket, '/v1/login-codes', { readOnly: opts.readOnly ?? false });
      const body = res.json as { url?: string; expiresAt?: string; error?: { message: string } };
      if (res.status !== 201 || body.url === undefined) {
        throw new DaemonUnavailableError(body.error?.message ?? `the daemon answered HTTP ${res.status}`);
      }
      ctx.print(opts, body, () => `${body.url}\n(one-time login link, valid until ${body.expiresAt})`);
      if (opts.open !== false && !opts.json && (process.env.DISPLAY || process.env.WAYLAND_DISPLAY)) {
        // Best effort: a desktop opens it in the browser; without one, the printed URL is the way in.
        const child = spawn('xdg-open', [body.url], { stdio: 'ignore', detached: true });
        child.on('error', () => undefined);
        child.unref();
      }
    });
}
