/**
 * The one protocol of the thread boundary: what the main thread and an actor's worker thread say
 * to each other (host channel, over the Worker's own port), and what a thread actor says to a peer
 * it holds a ref on (peer channel, over a MessagePort). Both are request/reply with numeric ids.
 *
 * Our own ~150 lines instead of Comlink: Comlink's node adapter ignores `close`/`exit` (a call to a
 * dead thread hangs forever), drops an error's `code` and `cause`, and its `releaseProxy` waits for
 * an answer from a dead thread; every call needed wrapping anyway. Here every pending call fails
 * the moment its channel ends, errors keep `code`, `name` and `cause`, and the messages are
 * discriminated unions checked by the compiler.
 * @internal
 */
import { deserializeError, serializeError, type SerializedError } from '../errors';
import type { InjectedFault } from './crash-injection';
import { PendingCalls } from './pending-calls';
import type { AskOptions, Handlers, MessageOf, MessageType, PayloadOf, PeerRef, Reply, UnexpectedErrorPolicy } from './types';

/** An error on the wire: code, name, message (and field) kept, plus its cause chain. */
export type WireError = SerializedError & { cause?: WireError };

/** Outcome of every call across the boundary. `crash`: the incarnation must end (ActorCrash, or policy). */
export type WireResult =
  | { ok: true; value: unknown }
  | { ok: false; error: WireError; crash: boolean };

/**
 * A message on the wire. Senders build it as `MessageOf<H>` (the discriminated union of protocol
 * `H`, checked by the compiler); the runtime in between carries it as this shape, unchanged.
 */
export type AnyMessage = { type: string; payload: unknown };

/**
 * Main → worker, on the host channel. `start` (once) carries the init and the peer ports; a worker
 * boots and loads the actor's module before it (so a standby worker can wait, module loaded).
 */
export type HostRequest =
  | { kind: 'start'; init: unknown; peers: Record<string, MessagePortLike>; clock: ClockBoot | null }
  /** One message for the handler; `fault`: an injected fault to apply to it (crash-injection.ts, tests). */
  | { kind: 'invoke'; id: number; message: AnyMessage; fault?: InjectedFault }
  | { kind: 'stop'; id: number }
  /** Settle, then reply with the worker's {@link TrafficCount} (the system's quiescence, tests only). */
  | { kind: 'quiet'; id: number };

/**
 * A thread actor's clock when the system runs on a VirtualClock: time read from memory shared with
 * it, timers registered over `port` (src/runtime/thread-clock.ts). Null: the thread's own real clock.
 */
export interface ClockBoot {
  shared: Float64Array;
  port: MessagePortLike;
}

/** Messages a worker posted and received on its peer and clock ports (quiescence). */
export interface TrafficCount {
  sent: number;
  received: number;
}

/**
 * Counts the messages one side posted and received on a worker's side channels (peer ports, clock
 * port). The two sides' counts match when nothing is in transit: that, and the worker having
 * settled, is what "this thread actor is quiet" means (ActorSystem.quiescent).
 * @internal
 */
export class Traffic implements TrafficCount {
  sent = 0;
  received = 0;
  #waiters: Array<() => void> = [];

  /** Counts one received message. */
  got(): void {
    this.received++;
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves once `received >= n`, or when `gone` resolves. */
  async receivedAtLeast(n: number, gone: Promise<unknown>): Promise<void> {
    let ended = false;
    void gone.then(() => { ended = true; for (const w of this.#waiters.splice(0)) w(); });
    while (this.received < n && !ended) await new Promise<void>((r) => this.#waiters.push(r));
  }
}

/** Worker → main, on the host channel. `loaded`: module loaded (or not); `ready`: the factory ran (or failed). */
export type HostReply =
  | { kind: 'loaded'; result: WireResult }
  | { kind: 'ready'; result: WireResult }
  | { kind: 'reply'; id: number; result: WireResult }
  /** The actor published its facts (ActorContext.publish): main-thread readers see `value`. */
  | { kind: 'facts'; value: unknown }
  /** The actor armed its first timer: from now on it takes part in quiescence. */
  | { kind: 'clockUsed' };

/** Thread actor → the main-side server of one of its peers; `M` is the peer's message union. */
export type PeerRequest<M extends AnyMessage = AnyMessage> =
  | { kind: 'ask'; id: number; message: M; timeoutMs?: number }
  | { kind: 'tell'; message: M };

/** Main-side peer server → thread actor. */
export type PeerReply = { kind: 'reply'; id: number; result: WireResult };

/** What the generic worker entry gets in `workerData` (init and peers come with `start`). */
export interface ThreadBoot {
  name: string;
  module: string;
  export: string;
  onUnexpectedError: UnexpectedErrorPolicy;
}

/** The part of a Worker / MessagePort / parentPort the wire needs. */
export interface MessagePortLike {
  postMessage(value: unknown, transferList?: readonly unknown[]): void;
  on(event: 'message', listener: (value: unknown) => void): unknown;
}

const MAX_CAUSE_DEPTH = 4;

/** Any thrown value → wire form, keeping code (SchedulerError), the original name and the causes. */
export function toWireError(err: unknown, depth = 0): WireError {
  const s: WireError = serializeError(err);
  if (err instanceof Error && s.code === 'INTERNAL') s.name = err.name;
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause !== undefined && depth < MAX_CAUSE_DEPTH) s.cause = toWireError(cause, depth + 1);
  return s;
}

/** Wire form → the same SchedulerError subclass (same code), same name, causes rebuilt. */
export function fromWireError(w: WireError): Error {
  const err = deserializeError(w);
  // Plain errors arrive as code INTERNAL; keep their own name (TypeError, ActorCrash...).
  if (err.name !== w.name) Object.defineProperty(err, 'name', { value: w.name, configurable: true, writable: true });
  if (w.cause !== undefined) Object.defineProperty(err, 'cause', { value: fromWireError(w.cause), configurable: true, writable: true });
  return err;
}

/** Runs `fn` and captures its outcome as a WireResult; `isCrash` decides which errors end the incarnation. */
export async function settled(fn: () => unknown, isCrash: (err: unknown) => boolean): Promise<WireResult> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return { ok: false, error: toWireError(err), crash: isCrash(err) };
  }
}

/** The value of a WireResult, or its error rebuilt. */
export function unwrap(r: WireResult): unknown {
  if (r.ok) return r.value;
  throw fromWireError(r.error);
}

/**
 * The calling side of a channel: numbered requests, replies matched by id, and every call in
 * flight failed at once by {@link end} (the channel's thread died or the port closed).
 */
export class PortCaller {
  readonly #port: MessagePortLike;
  readonly #waiting = new Map<number, (r: WireResult) => void>();
  readonly #pending = new PendingCalls();
  #nextId = 1;

  constructor(port: MessagePortLike) {
    this.#port = port;
  }

  /** Feed every `{kind:'reply'}` received on the channel here. */
  onReply(id: number, result: WireResult): void {
    const resolve = this.#waiting.get(id);
    this.#waiting.delete(id);
    resolve?.(result);
  }

  /** Posts the request built by `make(id)` and resolves with its reply (or rejects once ended). */
  call(make: (id: number) => unknown): Promise<WireResult> {
    const id = this.#nextId++;
    const reply = new Promise<WireResult>((resolve) => this.#waiting.set(id, resolve));
    const tracked = this.#pending.track(reply);
    tracked.catch(() => this.#waiting.delete(id));
    try {
      this.#port.postMessage(make(id));
    } catch (err) {
      // Not clonable (DataCloneError), or the port is closed: this call fails, the channel lives on.
      this.#waiting.delete(id);
      return Promise.reject(err);
    }
    return tracked;
  }

  /** Posts a message that gets no reply. */
  post(msg: unknown): void {
    this.#port.postMessage(msg);
  }

  /** Fails every call in flight, and every later one, with `err`. */
  end(err: unknown): void {
    this.#pending.end(err);
    this.#waiting.clear();
  }
}

/**
 * Thread side of a peer ref: an ask/tell over a MessagePort whose other end the main thread serves
 * with {@link servePeer}. Deadlines are enforced there, on the system's Clock (so a VirtualClock
 * drives them in tests); a closed port fails every call at once.
 */
export class PortPeerRef<H extends Handlers> implements PeerRef<H> {
  readonly name: string;
  readonly #caller: PortCaller;
  #closed = false;

  constructor(name: string, port: MessagePortLike & { on(event: 'close', l: () => void): unknown }, closedError: () => Error, traffic?: Traffic) {
    this.name = name;
    this.#caller = new PortCaller(counted(port, traffic));
    port.on('message', (m) => {
      traffic?.got();
      const r = m as PeerReply;
      if (r.kind === 'reply') this.#caller.onReply(r.id, r.result);
    });
    port.on('close', () => {
      this.#closed = true;
      this.#caller.end(closedError());
    });
  }

  async ask<K extends MessageType<H>>(type: K, payload: PayloadOf<H, K>, opts: AskOptions = {}): Promise<Reply<H, K>> {
    const message = { type, payload } as MessageOf<H> & AnyMessage;
    const r = await this.#caller.call((id): PeerRequest<MessageOf<H> & AnyMessage> => ({ kind: 'ask', id, message, timeoutMs: opts.timeoutMs }));
    return unwrap(r) as Reply<H, K>;
  }

  tell<K extends MessageType<H>>(type: K, payload: PayloadOf<H, K>): void {
    if (this.#closed) return;
    const msg: PeerRequest<MessageOf<H> & AnyMessage> = { kind: 'tell', message: { type, payload } as MessageOf<H> & AnyMessage };
    try {
      this.#caller.post(msg);
    } catch {
      // A tell never throws (as on the main thread); an unclonable payload is simply not sent.
    }
  }
}

/**
 * Main side of a peer channel: every request that arrives on `port` goes into `ref` (the peer's
 * stable ActorRef: its mailbox, its stash while it restarts, its deadlines). Returns a function
 * that stops serving and closes the port (the thread side then fails its calls in flight).
 */
export function servePeer<H extends Handlers>(raw: MessagePortLike & { close(): void }, ref: PeerRef<H>, traffic?: Traffic): () => void {
  let open = true;
  const port = counted(raw, traffic);
  raw.on('message', (m) => {
    traffic?.got();
    const req = m as PeerRequest<MessageOf<H> & AnyMessage>;
    const { type, payload } = req.message as { type: MessageType<H>; payload: PayloadOf<H, MessageType<H>> };
    if (req.kind === 'tell') {
      ref.tell(type, payload);
      return;
    }
    void settled(() => ref.ask(type, payload, req.timeoutMs === undefined ? {} : { timeoutMs: req.timeoutMs }), () => false)
      .then((result) => {
        if (!open) return;
        const reply: PeerReply = { kind: 'reply', id: req.id, result };
        try {
          port.postMessage(reply);
        } catch (err) {
          // The reply itself is not clonable: say so instead of leaving the asker waiting.
          port.postMessage({ kind: 'reply', id: req.id, result: { ok: false, error: toWireError(err), crash: false } } satisfies PeerReply);
        }
      });
  });
  return () => {
    open = false;
    raw.close();
  };
}

/** `port` whose posts are counted in `traffic` (as is when none). @internal */
export function counted<P extends MessagePortLike>(port: P, traffic: Traffic | undefined): MessagePortLike {
  if (traffic === undefined) return port;
  return {
    postMessage: (value, transferList) => {
      port.postMessage(value, transferList);
      traffic.sent++;
    },
    on: (event, listener) => port.on(event, listener),
  };
}
