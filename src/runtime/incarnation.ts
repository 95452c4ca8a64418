/**
 * One incarnation of an actor: the handlers built by one run of its factory, on the main thread
 * (here) or in a worker (thread-host.ts). The ActorCell forwards ONE message at a time to the
 * current incarnation; the supervisor restarts a crashed one by starting a fresh incarnation.
 * @internal
 */
import { PendingCalls } from './pending-calls';
import { ActorDeadError, ActorStoppedError, ValidationError } from '../errors';
import type { Child, ExitReason } from './supervisor';
import { ActorCrash, STOP_HANDLER, type Handlers } from './types';

/** What the ActorCell drives. `exited` settles on crash (abnormal) or after stop/kill (normal). */
export interface Incarnation extends Child {
  /** Runs one message. Rejects with the handler's error, ActorDeadError (crash) or ActorStoppedError. */
  invoke(type: string, payload: unknown): Promise<unknown>;
  kill(): Promise<void>;
}

/** A promise with its settle functions. @internal */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

/** @internal */
export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** The handler of `type`, or a ValidationError naming the actor and the unknown type. @internal */
export function handlerOf(actor: string, handlers: Handlers, type: string): Handlers[string] {
  const h = type === STOP_HANDLER ? undefined : handlers[type];
  if (typeof h !== 'function') {
    throw new ValidationError(`actor '${actor}' has no handler for message type '${type}'`, 'type');
  }
  return h;
}

/** Checks what a factory returned: an object of functions. @internal */
export function checkHandlers(actor: string, h: unknown): Handlers {
  if (typeof h !== 'object' || h === null) {
    throw new ValidationError(`actor '${actor}': factory must return an object of handlers, got ${h === null ? 'null' : typeof h}`, 'factory');
  }
  return h as Handlers;
}

/** An incarnation hosted on the main thread. @internal */
export class MainIncarnation implements Incarnation {
  readonly exited: Promise<ExitReason>;
  readonly #name: string;
  readonly #handlers: Handlers;
  readonly #exit = deferred<ExitReason>();
  /** Messages in flight: failed at once when the incarnation is killed. */
  readonly #pending = new PendingCalls();
  #state: 'running' | 'stopping' | 'dead' = 'running';
  #inflight: Promise<unknown> | null = null;

  /** Runs the factory; a factory that throws fails the start. */
  static async start(name: string, factory: (init: unknown) => Handlers | Promise<Handlers>, init: unknown): Promise<MainIncarnation> {
    return new MainIncarnation(name, checkHandlers(name, await factory(init)));
  }

  private constructor(name: string, handlers: Handlers) {
    this.#name = name;
    this.#handlers = handlers;
    this.exited = this.#exit.promise;
  }

  invoke(type: string, payload: unknown): Promise<unknown> {
    if (this.#state !== 'running') {
      return Promise.reject(new ActorStoppedError(`actor '${this.#name}' is stopping`));
    }
    const run = (async () => handlerOf(this.#name, this.#handlers, type).call(this.#handlers, payload))()
      .catch((err: unknown) => {
        if (!(err instanceof ActorCrash)) throw err;
        this.#crash(err);
        throw new ActorDeadError(`actor '${this.#name}' crashed: ${err.message}`, { cause: err });
      });
    const raced = this.#pending.track(run);
    this.#inflight = raced.catch(() => undefined);
    return raced;
  }

  async stop(): Promise<void> {
    if (this.#state === 'dead') return;
    this.#state = 'stopping';
    await this.#inflight;
    try {
      await this.#handlers[STOP_HANDLER]?.(undefined);
    } finally {
      this.#state = 'dead';
      this.#exit.resolve({ normal: true });
    }
  }

  async kill(): Promise<void> {
    if (this.#state === 'dead') return;
    this.#state = 'dead';
    // A main-thread handler cannot be interrupted; its result is simply dropped.
    this.#pending.end(new ActorStoppedError(`actor '${this.#name}' was killed`));
    this.#exit.resolve({ normal: true });
  }

  #crash(err: ActorCrash): void {
    if (this.#state === 'dead') return;
    this.#state = 'dead';
    this.#exit.resolve({ normal: false, error: err });
  }
}
