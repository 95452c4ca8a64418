import type { Clock } from './clock';

/**
 * The runtime's public shapes: actor behaviour ({@link Handlers}), the stable {@link ActorRef} that
 * callers hold, and the {@link RuntimeEvent}s the system publishes.
 */

/**
 * An actor's behaviour: one handler per message type, each taking ONE structured-clonable payload.
 * The handlers object IS the actor's protocol: {@link MessageOf} turns it into the discriminated
 * union of its messages, and every ref (main thread or across a thread) is typed by it.
 */
// `never` (not `any`) as the parameter: every one-parameter function is assignable to it, and
// nothing can be passed to it without going through the typed ask/tell below.
export type Handlers = { [type: string]: (payload: never) => unknown };

/** The resolved reply type of handler `K`. */
export type Reply<H extends Handlers, K extends keyof H> = Awaited<ReturnType<H[K]>>;

/** The message types of protocol `H`: its handler names, except the reserved `$stop` and `$crashed`. */
export type MessageType<H extends Handlers> = Exclude<keyof H & string, typeof STOP_HANDLER | typeof CRASH_HANDLER>;

/** The payload of message `K` of protocol `H`. */
export type PayloadOf<H extends Handlers, K extends keyof H> = Parameters<H[K]>[0];

/**
 * The messages of protocol `H` as a discriminated union on `type`.
 * @example
 * type M = MessageOf<{ add(p: { n: number }): number; reset(): void }>;
 * // { type: 'add'; payload: { n: number } } | { type: 'reset'; payload: undefined }
 */
export type MessageOf<H extends Handlers> = {
  [K in MessageType<H>]: { type: K; payload: PayloadOf<H, K> };
}[MessageType<H>];

/**
 * What an actor may do with another actor: ask and tell. A main-thread {@link ActorRef} is one; so
 * is the ref a thread actor holds on a peer (over a MessagePort).
 */
export interface PeerRef<H extends Handlers> {
  readonly name: string;
  /**
   * Phantom (never set): makes refs of different protocols incompatible for the compiler (generic
   * methods alone are compared loosely). A ref to a bigger protocol still fits a smaller one.
   */
  readonly __protocol?: H;
  /** Request/reply. Rejects with the handler's error (its `code` kept), MailboxFullError,
   *  AskTimeoutError, ActorDeadError (incarnation died with it in flight) or ActorStoppedError. */
  ask<K extends MessageType<H>>(type: K, payload: PayloadOf<H, K>, opts?: AskOptions): Promise<Reply<H, K>>;
  /** Fire and forget. Failures are counted and logged, never thrown. */
  tell<K extends MessageType<H>>(type: K, payload: PayloadOf<H, K>): void;
}

/**
 * Peers an actor is given at start, by the name it knows them by: an object whose values are
 * {@link PeerRef}s (`object`, not an index signature, so interfaces qualify too).
 */
export type PeerMap = object;

/** What a factory gets besides its `init`. */
export interface ActorContext<P extends PeerMap = PeerMap> {
  /** The actor's name in its system. */
  readonly name: string;
  /** Refs to the peers given in the spawn spec (`peers`), wherever each of them runs. */
  readonly peers: P;
  /**
   * The actor's clock: the system's on the main thread; in a worker thread its own real clock,
   * or — when the system runs on a VirtualClock — a proxy driven by it (src/runtime/thread-clock.ts).
   */
  readonly clock: Clock;
  /**
   * Publishes a small snapshot of this actor's facts (structured-clonable) that main-thread readers
   * get from {@link ActorRef.facts} without a message: read paths and health that must answer while
   * the mailbox is busy. On the main thread it is stored at once; from a worker it is posted.
   */
  publish(facts: unknown): void;
}

/**
 * An actor's logic: runs on every (re)start with the same `init` and returns the handlers of one
 * incarnation. It must not care where it runs (main thread or worker thread).
 */
export type ActorFactory<I = never, H extends Handlers = Handlers, P extends PeerMap = PeerMap> =
  (init: I, ctx: ActorContext<P>) => H | Promise<H>;

/** The handlers (protocol) a factory builds. */
export type HandlersOf<F> = F extends (...args: never[]) => infer R ? Awaited<R> extends Handlers ? Awaited<R> : never : never;
/** The init a factory takes. */
export type InitOf<F> = F extends (init: infer I, ...rest: never[]) => unknown ? I : never;
/** The peers a factory expects in its context (`{}` if it takes none). */
export type PeersOf<F> = F extends (init: never, ctx: ActorContext<infer P>) => unknown ? P : Record<string, never>;

/**
 * Where to find an actor's factory: a built module (absolute path) and the name of its export.
 * The same reference runs on the main thread (`require`d there) or in the generic worker entry,
 * so placement is a configuration value. `F` is a phantom type: the factory's type, so spawn specs
 * and refs are checked against it without loading the module. Build one with {@link actorModule}.
 */
export interface ActorLogic<F> {
  readonly module: string;
  readonly export: string;
  /** Phantom (never set): carries the factory type. */
  readonly __factory?: F;
}

type FactoryKeys<M> = { [K in keyof M & string]: M[K] extends (init: never, ctx: never) => unknown ? K : never }[keyof M & string];

/**
 * References an actor module by path, typed by its module type, without loading it.
 * @example
 * const parserLogic = actorModule<typeof import('./actors/parser/actor')>(require.resolve('./actors/parser/actor'))
 *   .logic('createParserHandlers'); // the export name is checked by the compiler
 * system.spawn({ name: 'parser', logic: parserLogic, placement: 'thread' });
 */
export function actorModule<M>(modulePath: string): { logic<K extends FactoryKeys<M>>(exportName: K): ActorLogic<M[K]> } {
  return { logic: (exportName) => ({ module: modulePath, export: exportName }) };
}

/** Where an actor runs: on the main thread, or alone in its own worker thread. */
export type Placement = 'main' | 'thread';

/**
 * What an unexpected handler error does. `reject` (default): that message fails, the actor lives on.
 * `crash`: an error that is not a SchedulerError (expected failures are SchedulerError subclasses
 * and stay a rejected ask) crashes the incarnation, as an ActorCrash does: the sender gets
 * ActorDeadError (`cause` = the error), the supervisor restarts it, and `init` rebuilds its state.
 */
export type UnexpectedErrorPolicy = 'reject' | 'crash';

/** Options of {@link ActorRef.ask}. */
export interface AskOptions {
  /** Milliseconds (on the system's Clock) before the ask rejects with AskTimeoutError. @default 30000 */
  timeoutMs?: number;
}

/** Counters of one actor, across all its incarnations. */
export interface ActorStats {
  /** Messages whose handler completed. */
  processed: number;
  /** Messages whose handler threw, or that died with their incarnation. */
  failed: number;
  /** Messages refused at the door: mailbox full, stash full, or actor stopped. */
  refused: number;
  /** Messages accepted and not yet finished (waiting + in flight). */
  queued: number;
  /** Times the actor was restarted by its supervisor. */
  restarts: number;
  /** True while an incarnation is running and serving messages. */
  alive: boolean;
}

/**
 * A handle on an actor. It is STABLE across restarts: it always points at the current incarnation,
 * and messages sent while the actor restarts are stashed (bounded) and delivered after.
 */
export interface ActorRef<H extends Handlers> extends PeerRef<H> {
  stats(): ActorStats;
  /** The facts the actor last published (`ctx.publish`), kept across restarts; undefined before any. */
  facts(): unknown;
}

/**
 * Thrown by a handler to say "this actor is broken": unlike any other error, it crashes the
 * incarnation (the supervisor then restarts it per its restart type). The message that threw it
 * rejects with ActorDeadError whose `cause` is this error. Works the same on the main thread and in
 * a worker.
 *
 * @example
 * if (!db.isOpen()) throw new ActorCrash('store handle lost');
 */
export class ActorCrash extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ActorCrash';
  }
}

/**
 * Reserved handler name: if the handlers object has it, it is called (with no payload) when an
 * incarnation is stopped gracefully — close files, flush stores. It is not a message type.
 */
export const STOP_HANDLER = '$stop';

/**
 * Reserved handler name: if the handlers object has it, it is called (with no payload) right after
 * a **main-thread** incarnation crashed — release what the death of a worker thread would have
 * freed: timers that would keep firing, child pools whose work would run on unowned. Not awaited by
 * the restart (the next incarnation starts at once); a throw or rejection is logged nowhere and
 * ignored. Thread incarnations never get it: their worker is terminated. It is not a message type.
 */
export const CRASH_HANDLER = '$crashed';

/** Why a message was refused. */
export type RefusalReason = 'full' | 'stash_full' | 'stopped';

/** What the ActorSystem publishes on `events$`. `at` is ISO time from the system's clock. */
export type RuntimeEvent =
  | { type: 'actor.started'; at: string; actor: string }
  | { type: 'actor.crashed'; at: string; actor: string; reason: string }
  | { type: 'actor.restarted'; at: string; actor: string; reason: string }
  | { type: 'actor.failed'; at: string; actor: string; reason: string }
  | { type: 'actor.stopped'; at: string; actor: string }
  | { type: 'mailbox.refused'; at: string; actor: string; messageType: string; reason: RefusalReason }
  /** A message was in flight past the actor's hang deadline: the incarnation is crashed (restarted). */
  | { type: 'actor.hung'; at: string; actor: string; messageType: string; afterMs: number }
  | { type: 'system.failed'; at: string; reason: string };

/** Human-readable reason text of any thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : `${err.name}: ${err.message}`;
  }
  return String(err);
}
