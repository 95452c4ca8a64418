/**
 * `serveApi`: the library's way to serve the HTTP API (what `rae-sched daemon` serves) for a
 * scheduler it embeds. fastify is loaded on the first call only, so importing the library stays light.
 */
import type { Logger, Scheduler } from '../api';
import type { ControlServer } from '../cli/server';
import type { HttpOptions } from './server';

/** Options of {@link serveApi}. */
export interface ServeApiOptions {
  /** The Unix socket to serve on (mode 0600, no credentials), e.g. `<dataDir>/rae-sched.sock`. */
  socketPath: string;
  /** Also serve on TCP, with tokens from `http.dataDir` and the dashboard at `/`. */
  http?: HttpOptions;
  logger?: Logger;
}

/**
 * Serves the API for `scheduler`. Close the returned server (`await server.close()`) before
 * shutting the scheduler down.
 * @example
 * const server = await serveApi(s, { socketPath: `${dir}/rae-sched.sock`, http: { port: 7070, dataDir: dir } });
 * console.log(server.httpUrl); // http://127.0.0.1:7070
 */
export async function serveApi(scheduler: Scheduler, opts: ServeApiOptions): Promise<ControlServer> {
  const { ControlServer: Server } = await import('../cli/server');
  return Server.start(scheduler, opts.socketPath, opts.logger, opts.http ? { http: opts.http } : {});
}
