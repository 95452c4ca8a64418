/**
 * One incarnation of an actor: the handlers built by one run of its factory, on the main thread
 * (here) or in a worker (thread-host.ts). The ActorCell forwards ONE message at a time to the
 * current incarnation; the supervisor restarts a crashed one by starting a fresh incarnation.
 * @internal
 */
import { runInjected, type InjectedFault } from './crash-injection';
import { PendingCalls } from './pending-calls';
import { ActorDeadError, ActorStoppedError, SchedulerError, ValidationError } from '../errors';
import type { Child, ExitReason } from './supervisor';
import { ActorCrash, CRASH_HANDLER, STOP_HANDLER, type ActorContext, type ActorFactory, type Handlers, type UnexpectedErrorPolicy } from './types';

/** What the ActorCell drives. `exited` settles on crash (abnormal) or after stop/kill (normal). */
export interface Incarnation extends Child {
  /**
   * Runs one message (with `fault` applied where the handler runs, crash-injection.ts). Rejects
   * with the handler's error, ActorDeadError (crash) or ActorStoppedError.
   */
  invoke(type: string, payload: unknown, fault?: InjectedFault): Promise<unknown>;
  kill(): Promise<void>;
  /**
   * Ends this incarnation as a crash, now: fault injection (tests, benches, chaos drivers) and the
   * hang watchdog (`reason` says why; a thread's worker is terminated).
   */
  fault(reason?: Error): Promise<void>;
  /**
   * Resolves true if nothing is going on in it that the caller cannot see (a worker settled, no
   * message in transit on its side channels); false if something moved meanwhile (ask again).
   * Absent: quiet whenever its mailbox is (main-thread incarnations).
   */
  quiet?(): Promise<boolean>;
}

/**
 * Which handler errors crash the incarnation: always an ActorCrash; with policy `crash` also any
 * error that is not a SchedulerError (SchedulerErrors are expected failures: a rejected ask).
 * @internal
 */
export function crashPolicy(policy: UnexpectedErrorPolicy): (err: unknown) => boolean {
  if (policy === 'crash') return (err) => err instanceof ActorCrash || !(err instanceof SchedulerError);
  return (err) => err instanceof ActorCrash;
}

/** The error the sender of the message that crashed an incarnation gets. @internal */
export function deadError(actor: string, err: unknown): ActorDeadError {
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new ActorDeadError(`actor '${actor}' crashed: ${what}`, { cause: err });
}

/**
 * `start`, unless `signal` aborts first: then it rejects at once with the signal's reason, and an
 * incarnation the abandoned start yields later is stopped as soon as it exists (its `$stop`
 * releases what its factory set up), so nothing of it keeps running. For a main-thread factory,
 * which cannot be interrupted, abandoning it is all a stop (or the start deadline) can do.
 * @internal
 */
export function abandonOnAbort(start: Promise<Incarnation>, signal: AbortSignal): Promise<Incarnation> {
  const discard = (inc: Incarnation): void => { void inc.stop().catch(() => undefined).finally(() => void inc.kill().catch(() => undefined)); };
  if (signal.aborted) {
    start.then(discard, () => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<Incarnation>((resolve, reject) => {
    const onAbort = (): void => {
      start.then(discard, () => undefined);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    start.then(
      (inc) => { signal.removeEventListener('abort', onAbort); resolve(inc); },
      (err: unknown) => { signal.removeEventListener('abort', onAbort); reject(err); },
    );
  });
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

/**
 * The handler of `type` bound to its handlers object, or a ValidationError naming the actor and the
 * unknown type. The one place where a message's payload meets its handler untyped: the types of
 * both were checked at the sender (`ask<K>`), and the payload is plain data.
 * @internal
 */
export function handlerOf(actor: string, handlers: Handlers, type: string): (payload: unknown) => unknown {
  // Not Object.prototype's members ('constructor', 'toString'...): they are no message types.
  const h = type === STOP_HANDLER || type === CRASH_HANDLER || type in Object.prototype ? undefined : handlers[type];
  if (typeof h !== 'function') {
    throw new ValidationError(`actor '${actor}' has no handler for message type '${type}'`, 'type');
  }
  return (payload) => (h as (p: unknown) => unknown).call(handlers, payload);
}

/**
 * Loads a factory from its module reference (`require`: built CommonJS, absolute path). Used on the
 * main thread and by the generic worker entry alike.
 * @internal
 */
export function loadFactory(actor: string, logic: { module: string; export: string }): ActorFactory<unknown> {
  let mod: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module is configuration, known only at run time
    mod = require(logic.module) as Record<string, unknown>;
  } catch (err) {
    throw new ValidationError(`actor '${actor}': cannot load module ${logic.module}: ${err instanceof Error ? err.message : String(err)}`, 'logic.module', { cause: err });
  }
  const f = mod[logic.export];
  if (typeof f !== 'function') {
    throw new ValidationError(`actor '${actor}': module ${logic.module} has no function export '${logic.export}'`, 'logic.export');
  }
  return f as ActorFactory<unknown>;
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
  readonly #isCrash: (err: unknown) => boolean;
  #state: 'running' | 'stopping' | 'dead' = 'running';
  /** Calls in flight (several with `concurrency` or queries): stop() lets them all finish. */
  readonly #inflight = new Set<Promise<unknown>>();

  /** Runs the factory; a factory that throws fails the start. */
  static async start(
    name: string, factory: ActorFactory<unknown>, init: unknown, ctx: ActorContext, policy: UnexpectedErrorPolicy,
  ): Promise<MainIncarnation> {
    return new MainIncarnation(name, checkHandlers(name, await factory(init, ctx)), crashPolicy(policy));
  }

  private constructor(name: string, handlers: Handlers, isCrash: (err: unknown) => boolean) {
    this.#name = name;
    this.#handlers = handlers;
    this.#isCrash = isCrash;
    this.exited = this.#exit.promise;
  }

  invoke(type: string, payload: unknown, fault?: InjectedFault): Promise<unknown> {
    if (this.#state !== 'running') {
      return Promise.reject(new ActorStoppedError(`actor '${this.#name}' is stopping`));
    }
    const handler = handlerOf(this.#name, this.#handlers, type);
    const run = (async () => runInjected(fault, () => handler(payload)))()
      .catch((err: unknown) => {
        if (!this.#isCrash(err)) throw err;
        const dead = deadError(this.#name, err);
        this.#crash(dead);
        throw dead;
      });
    const raced = this.#pending.track(run);
    const settled = raced.catch(() => undefined);
    this.#inflight.add(settled);
    void settled.then(() => this.#inflight.delete(settled));
    return raced;
  }

  async stop(): Promise<void> {
    if (this.#state === 'dead') return;
    this.#state = 'stopping';
    await Promise.all([...this.#inflight]);
    try {
      await (this.#handlers[STOP_HANDLER] as (() => unknown) | undefined)?.call(this.#handlers);
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

  async fault(reason?: Error): Promise<void> {
    const dead = deadError(this.#name, reason ?? new ActorCrash('fault injected'));
    this.#pending.end(dead);
    this.#crash(dead);
  }

  #crash(err: ActorDeadError): void {
    if (this.#state === 'dead') return;
    this.#state = 'dead';
    // No thread dies with a main-thread incarnation: let it release its timers and pools.
    try {
      const released = (this.#handlers[CRASH_HANDLER] as (() => unknown) | undefined)?.call(this.#handlers);
      if (released instanceof Promise) released.catch(() => undefined);
    } catch {
      // A crashed incarnation's clean-up failing changes nothing: it is gone either way.
    }
    this.#exit.resolve({ normal: false, error: err });
  }
}
