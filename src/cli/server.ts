/**
 * The control API: HTTP + JSON on the daemon's Unix socket (mode 0600), so the CLI, the Electron UI and
 * `curl --unix-socket <dataDir>/rae-sched.sock http://x/v1/jobs` all drive the same Scheduler; and,
 * when asked, the same API on TCP with tokens and the dashboard (src/http/server.ts).
 * The routes are fastify's (src/http/app.ts); this file owns the socket file.
 */
import { createServer, type Server } from 'node:http';
import { unlink } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { bindPrivately, finishPrivateSocket } from './private-socket';
import { ConflictError } from '../errors';
import type { Logger, Scheduler } from '../api';
import { TokenStore } from '../actors/persistence/tokens';
import { buildApp } from '../http/app';
import { ApiCore, HttpListener, type HttpOptions } from '../http/server';
import { daemonAnswers } from './client';

/** Options of {@link ControlServer.start}. */
export interface ControlServerOptions {
  /** Also serve the API (and the dashboard) on TCP. */
  http?: HttpOptions;
}

/** The daemon's HTTP server on a Unix socket (and optionally on TCP). */
export class ControlServer {
  readonly #server: Server;
  readonly #socketPath: string;
  readonly #core: ApiCore;
  #app: FastifyInstance | undefined;
  #http: HttpListener | undefined;
  #closed = false;

  private constructor(socketPath: string, core: ApiCore) {
    this.#socketPath = socketPath;
    this.#core = core;
    this.#server = createServer();
  }

  /**
   * Listens on `socketPath`. A socket file left by a dead daemon is removed first; a live daemon
   * answering on it is a ConflictError (two daemons must never share a data directory).
   */
  static async start(scheduler: Scheduler, socketPath: string, logger?: Logger, opts: ControlServerOptions = {}): Promise<ControlServer> {
    if (await daemonAnswers(socketPath)) {
      throw new ConflictError(`a daemon already answers on ${socketPath}`);
    }
    await unlink(socketPath).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    const tokens = opts.http ? TokenStore.open(opts.http.dataDir) : null;
    const core = new ApiCore(scheduler, {
      tokens, ...(logger ? { logger } : {}),
      ...(opts.http?.eventHeartbeatMs !== undefined ? { heartbeatMs: opts.http.eventHeartbeatMs } : {}),
    });
    const server = new ControlServer(socketPath, core);
    try {
      server.#app = await buildApp({
        transport: 'unix', ctx: core.context(false, false), registry: core.registry,
        serverFactory: (handler) => server.#server.on('request', handler),
        ...(logger ? { logger } : {}),
      });
      await new Promise<void>((resolveListen, reject) => {
        server.#server.once('error', reject);
        // Only the owner may drive the scheduler (it runs arbitrary commands): the socket is created
        // owner-only, with no window in which another user could connect (src/cli/private-socket.ts).
        bindPrivately(socketPath, () => server.#server.listen(socketPath, () => {
          server.#server.off('error', reject);
          resolveListen();
        }));
      });
      finishPrivateSocket(socketPath);
      if (opts.http) server.#http = await HttpListener.start(core, opts.http, logger);
    } catch (err) {
      await server.close();
      throw err;
    }
    return server;
  }

  /** The socket this server listens on. */
  get socketPath(): string {
    return this.#socketPath;
  }

  /** Base URL of the TCP listener (`http://127.0.0.1:7070`), or null without one. */
  get httpUrl(): string | null {
    return this.#http?.url ?? null;
  }

  /** Event streams open now (for tests that wait for a client's stream). */
  get openStreams(): number {
    return this.#core.streams.size;
  }

  /** Stops accepting connections; requests already in flight are still answered. */
  stopAccepting(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    this.#http?.stopAccepting();
  }

  /** Stops accepting, ends event streams, drops remaining connections and removes the socket file. */
  async close(): Promise<void> {
    this.stopAccepting();
    await this.#core.close();
    this.#server.closeAllConnections();
    await this.#http?.close();
    await this.#app?.close().catch(() => undefined);
    await unlink(this.#socketPath).catch(() => undefined);
  }
}
