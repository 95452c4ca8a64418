/**
 * The runtime's public shapes: actor behaviour ({@link Handlers}), the stable {@link ActorRef} that
 * callers hold, and the {@link RuntimeEvent}s the system publishes.
 */

/** An actor's behaviour: one handler per message type, each taking ONE structured-clonable payload. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handlers = { [type: string]: (payload: any) => unknown };

/** The resolved reply type of handler `K`. */
export type Reply<H extends Handlers, K extends keyof H> = Awaited<ReturnType<H[K]>>;

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
export interface ActorRef<H extends Handlers> {
  readonly name: string;
  /** Request/reply. Rejects with the handler's error (its `code` kept), MailboxFullError,
   *  AskTimeoutError, ActorDeadError (incarnation died with it in flight) or ActorStoppedError. */
  ask<K extends keyof H & string>(type: K, payload: Parameters<H[K]>[0], opts?: AskOptions): Promise<Reply<H, K>>;
  /** Fire and forget. Failures are counted and logged, never thrown. */
  tell<K extends keyof H & string>(type: K, payload: Parameters<H[K]>[0]): void;
  stats(): ActorStats;
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
  | { type: 'system.failed'; at: string; reason: string };

/** Human-readable reason text of any thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : `${err.name}: ${err.message}`;
  }
  return String(err);
}
