/**
 * Logging for actors that may run in a worker thread: the process's Logger (pino, with its
 * transport and bindings) lives on the main thread, so an actor gets a `log` peer and logs by
 * telling it — the same code wherever the actor runs.
 */
import type { Logger } from '../model';
import type { PeerRef } from './types';

type Level = 'debug' | 'info' | 'warn' | 'error';

/** The protocol of a `log` peer: one line per tell. */
export type LogHandlers = {
  log(p: { level: Level; fields: object; msg?: string }): void;
};

/** A `log` peer writing to `logger` (on the main thread; thread actors reach it over a port). */
export function logPeer(logger: Logger): PeerRef<LogHandlers> {
  const write = (p: { level: Level; fields: object; msg?: string }): void => logger[p.level](p.fields, p.msg);
  return {
    name: 'log',
    tell: (_type, payload) => write(payload),
    ask: async (_type, payload) => {
      write(payload);
      return undefined as never;
    },
  };
}

/** A Logger that tells `peer` (what an actor hands to code that wants a Logger). */
export function peerLogger(peer: PeerRef<LogHandlers> | undefined): Logger {
  const line = (level: Level) => (fields: object, msg?: string): void => peer?.tell('log', { level, fields, ...(msg !== undefined ? { msg } : {}) });
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}
