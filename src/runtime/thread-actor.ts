/**
 * Worker side of a thread actor. A worker entry file is just:
 *
 * @example
 * import { exposeActor } from '../runtime/thread-actor';
 * import { createParserHandlers } from '../actors/parser/actor';
 * exposeActor(createParserHandlers);
 *
 * Keep this module light: it is what every actor worker loads.
 */
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import { ValidationError, serializeError, type SerializedError } from '../errors';
import { checkHandlers, handlerOf } from './incarnation';
import { ActorCrash, STOP_HANDLER, type Handlers } from './types';

/**
 * Result of every call across the bridge. Errors travel as SerializedError because Comlink keeps
 * only name/message/stack of a thrown error and would lose its `code`.
 * @internal
 */
export type WireResult =
  | { ok: true; value: unknown }
  | { ok: false; error: SerializedError; crash: boolean };

/** What a thread actor's worker exposes over Comlink. @internal */
export interface WorkerApi {
  init(name: string, init: unknown): Promise<WireResult>;
  invoke(type: string, payload: unknown): Promise<WireResult>;
  stop(): Promise<WireResult>;
}

async function settled(fn: () => unknown): Promise<WireResult> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return { ok: false, error: serializeError(err), crash: err instanceof ActorCrash };
  }
}

/**
 * Hosts the handlers built by `factory` in this worker thread. The main side calls `init` once
 * (the factory runs with the spawn spec's `init`), then forwards one message at a time.
 */
export function exposeActor(factory: (init: any) => Handlers | Promise<Handlers>): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (parentPort === null) throw new ValidationError('exposeActor must be called in a worker thread', 'parentPort');
  let handlers: Handlers | null = null;
  let actor = 'thread';
  const api: WorkerApi = {
    init: (name, init) => settled(async () => {
      actor = name;
      handlers = checkHandlers(name, await factory(init));
    }),
    invoke: (type, payload) => settled(() => {
      if (handlers === null) throw new ValidationError('actor not initialised', 'init');
      const h = handlerOf(actor, handlers, type);
      return h.call(handlers, payload);
    }),
    stop: () => settled(() => handlers?.[STOP_HANDLER]?.(undefined)),
  };
  // The adapter's types are written against DOM event types; parentPort is what it needs at runtime.
  Comlink.expose(api, nodeEndpoint(parentPort as unknown as Parameters<typeof nodeEndpoint>[0]));
}
