/**
 * Main side of a thread actor: one incarnation = one worker_threads Worker running the generic
 * entry (thread-entry.js), which loads the actor's factory by module path + export name.
 *
 * Each peer the actor was given gets a fresh MessageChannel per incarnation: the worker holds one
 * end, and the main thread serves the other into the peer's stable ActorRef (so peer refs keep
 * working across the PEER's restarts: its mailbox stashes). The channels close with the incarnation.
 *
 * A call to a dead worker must not hang: every call in flight is failed (ActorDeadError) on the
 * worker's `exit`, whatever the cause (error, process.exit, terminate, V8 resourceLimits).
 * @internal
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { MessageChannel, Worker, type MessagePort, type ResourceLimits } from 'node:worker_threads';
import { join } from 'node:path';
import { ActorStoppedError } from '../errors';
import { deadError, deferred, type Incarnation } from './incarnation';
import type { ExitReason } from './supervisor';
import type { VirtualClock } from './clock';
import type { InjectedFault } from './crash-injection';
import { serveClock } from './thread-clock';
import { ActorCrash, type ActorLogic, type Handlers, type PeerRef, type UnexpectedErrorPolicy } from './types';
import { PortCaller, Traffic, fromWireError, servePeer, type ClockBoot, type HostReply, type HostRequest, type ThreadBoot, type TrafficCount, type WireResult } from './wire';

/** The built generic worker entry (next to this file). */
export const THREAD_ENTRY = join(__dirname, 'thread-entry.js');

/** How to start a thread incarnation. @internal */
export interface ThreadSpec {
  name: string;
  logic: ActorLogic<unknown>;
  init?: unknown;
  /** The peers' main-side refs, by the name the actor knows them by (resolved at each start). */
  peers?: () => Record<string, PeerRef<Handlers>>;
  resourceLimits?: ResourceLimits;
  onUnexpectedError?: UnexpectedErrorPolicy;
  /** The system's clock when it is virtual: the thread's timers run on it (thread-clock.ts). */
  virtualClock?: VirtualClock;
  /** Receives the facts the actor publishes. */
  publish?: (facts: unknown) => void;
}

/**
 * A worker running the generic entry, module loaded (or loading), not started yet. Listeners are
 * attached at creation so no message or exit is missed before an incarnation adopts it.
 */
class BootedWorker {
  readonly worker: Worker;
  readonly loaded = deferred<WireResult>();
  readonly ready = deferred<WireResult>();
  exited: number | null = null;
  lastError: unknown;
  onReply: (id: number, result: WireResult) => void = () => undefined;
  onExit: (code: number) => void = () => undefined;
  onClockUsed: () => void = () => undefined;

  constructor(spec: ThreadSpec) {
    const boot: ThreadBoot = { name: spec.name, module: spec.logic.module, export: spec.logic.export, onUnexpectedError: spec.onUnexpectedError ?? 'reject' };
    this.worker = new Worker(THREAD_ENTRY, { workerData: boot, ...(spec.resourceLimits ? { resourceLimits: spec.resourceLimits } : {}) });
    // Awaited only while starting; a late rejection must not be unhandled.
    this.loaded.promise.catch(() => undefined);
    this.ready.promise.catch(() => undefined);
    this.worker.on('message', (m: HostReply) => {
      if (m.kind === 'loaded') this.loaded.resolve(m.result);
      else if (m.kind === 'ready') this.ready.resolve(m.result);
      else if (m.kind === 'facts') spec.publish?.(m.value);
      else if (m.kind === 'clockUsed') this.onClockUsed();
      else this.onReply(m.id, m.result);
    });
    this.worker.on('error', (err) => { this.lastError = err; });
    this.worker.once('exit', (code) => {
      this.exited = code;
      const gone = new ActorStoppedError(`actor '${spec.name}': worker exited with code ${code} while starting`);
      this.loaded.reject(gone);
      this.ready.reject(gone);
      this.onExit(code);
    });
  }
}

/**
 * Starts the incarnations of one thread actor. With `standby`, it keeps one spare worker booted
 * with the module loaded, so a restart only runs the factory (the boot and the module load are
 * most of a cold start: hundreds of ms for a module that loads a native store).
 * @internal
 */
export class ThreadLauncher {
  readonly #spec: ThreadSpec;
  readonly #standby: boolean;
  #spare: BootedWorker | null = null;
  #disposed = false;

  constructor(spec: ThreadSpec, standby: boolean) {
    this.#spec = spec;
    this.#standby = standby;
  }

  /**
   * Starts an incarnation. If `signal` aborts first (a stop, the start deadline), the worker is
   * terminated — whatever its factory was doing, a busy loop too — and this rejects with the
   * signal's reason once the thread is gone.
   */
  async start(signal?: AbortSignal): Promise<ThreadIncarnation> {
    const spare = this.#spare;
    this.#spare = null;
    const worker = spare !== null && spare.exited === null ? spare : new BootedWorker(this.#spec);
    const onAbort = (): void => { void worker.worker.terminate(); };
    if (signal?.aborted === true) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let inc: ThreadIncarnation;
    try {
      inc = await ThreadIncarnation.start(this.#spec, worker);
    } catch (err) {
      throw signal?.aborted === true ? signal.reason : err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (this.#standby && !this.#disposed) this.#spare = new BootedWorker(this.#spec);
    return inc;
  }

  /** Terminates the spare (the actor is gone for good). */
  async dispose(): Promise<void> {
    this.#disposed = true;
    const spare = this.#spare;
    this.#spare = null;
    await spare?.worker.terminate();
  }
}

/**
 * Name of the diagnostics channel on which every thread incarnation announces itself once its
 * worker exists ({@link ThreadStarted}). Nothing is published while nobody subscribes; crash tests
 * and the benchmark subscribe through `threadActorProbe` (rae-scheduler/testing).
 * @internal
 */
export const THREAD_STARTED_CHANNEL = 'rae-scheduler:thread-actor-started';

/** What {@link THREAD_STARTED_CHANNEL} carries. @internal */
export interface ThreadStarted {
  /** The actor's name (`persistence`, `parser`). */
  name: string;
  threadId: number;
  /** Terminates this incarnation's worker from outside, as a crash would. */
  terminate(): Promise<void>;
}

const threadStarted = diagnostics_channel.channel(THREAD_STARTED_CHANNEL);

/** @internal */
export class ThreadIncarnation implements Incarnation {
  readonly exited: Promise<ExitReason>;
  readonly #name: string;
  readonly #booted: BootedWorker;
  readonly #worker: Worker;
  readonly #caller: PortCaller;
  readonly #exit = deferred<ExitReason>();
  readonly #closePeers: Array<() => void> = [];
  /** Messages on the side channels (peer ports, clock port), for {@link quiet}. */
  readonly #traffic = new Traffic();
  /** Takes part in quiescence: it has peers or armed a timer on the (virtual) clock. */
  #active = false;
  #state: 'starting' | 'running' | 'stopping' | 'dead' = 'starting';
  /** Calls in flight (several when the actor's concurrency allows): stop() lets them finish. */
  readonly #inflight = new Set<Promise<unknown>>();

  /**
   * Starts an incarnation on `booted` (a fresh worker by default): waits for the module, sends the
   * init and the peer ports, waits for the factory. Rejects (worker terminated) if any step fails.
   */
  static async start(spec: ThreadSpec, booted: BootedWorker = new BootedWorker(spec)): Promise<ThreadIncarnation> {
    const inc = new ThreadIncarnation(spec.name, booted);
    try {
      const loaded = await booted.loaded.promise;
      if (!loaded.ok) throw fromWireError(loaded.error);
      inc.#sendStart(spec);
      const r = await booted.ready.promise;
      if (!r.ok) throw fromWireError(r.error);
    } catch (err) {
      await inc.kill();
      throw err;
    }
    inc.#state = 'running';
    return inc;
  }

  private constructor(name: string, booted: BootedWorker) {
    this.#name = name;
    this.#booted = booted;
    this.#worker = booted.worker;
    this.exited = this.#exit.promise;
    this.#caller = new PortCaller(this.#worker);
    booted.onReply = (id, result) => this.#caller.onReply(id, result);
    booted.onExit = (code) => this.#onExit(code);
    booted.onClockUsed = () => { this.#active = true; };
    if (booted.exited !== null) this.#onExit(booted.exited);
    // Announced when the incarnation adopts its worker (a standby spare is not announced until
    // then), so the probe's crash() hits the worker that serves the actor.
    if (threadStarted.hasSubscribers) {
      threadStarted.publish({ name, threadId: this.#worker.threadId, terminate: () => this.terminateForTest() } satisfies ThreadStarted);
    }
  }

  /** Worker thread id (for logs and diagnostics). */
  get threadId(): number {
    return this.#worker.threadId;
  }

  async invoke(type: string, payload: unknown, fault?: InjectedFault): Promise<unknown> {
    if (this.#state !== 'running') throw new ActorStoppedError(`actor '${this.#name}' is stopping`);
    const call = this.#caller.call((id): HostRequest => (fault === undefined
      ? { kind: 'invoke', id, message: { type, payload } }
      : { kind: 'invoke', id, message: { type, payload }, fault }));
    const settled = call.catch(() => undefined);
    this.#inflight.add(settled);
    void settled.then(() => this.#inflight.delete(settled));
    const r = await call;
    if (r.ok) return r.value;
    const error = fromWireError(r.error);
    if (r.crash) {
      // The handler declared the actor broken (ActorCrash, or an unexpected error under the
      // `crash` policy): end this incarnation.
      const dead = deadError(this.#name, error);
      this.#die(dead);
      void this.#worker.terminate();
      throw dead;
    }
    throw error;
  }

  async stop(): Promise<void> {
    if (this.#state === 'dead') return;
    this.#state = 'stopping';
    await Promise.all([...this.#inflight]);
    try {
      await this.#caller.call((id): HostRequest => ({ kind: 'stop', id }));
    } catch {
      // Died meanwhile: nothing left to stop.
    }
    await this.#worker.terminate();
    this.#finish();
  }

  async kill(): Promise<void> {
    if (this.#state === 'dead') return;
    this.#state = 'stopping';
    this.#caller.end(new ActorStoppedError(`actor '${this.#name}' was killed`));
    await this.#worker.terminate();
    this.#finish();
  }

  async fault(reason?: Error): Promise<void> {
    this.#booted.lastError = reason ?? new ActorCrash('fault injected: worker terminated');
    await this.#worker.terminate();
  }

  /**
   * True when the worker settled with nothing in transit on its side channels since the last
   * look; false when something moved (the system asks again). A worker with neither peers nor
   * timers is quiet whenever its mailbox is.
   */
  async quiet(): Promise<boolean> {
    if (!this.#active || this.#state !== 'running') return true;
    const t = this.#traffic;
    const before = { sent: t.sent, received: t.received };
    let r: WireResult;
    try {
      r = await this.#caller.call((id): HostRequest => ({ kind: 'quiet', id }));
    } catch {
      return true;
    }
    if (!r.ok) return true;
    const theirs = r.value as TrafficCount;
    // What it sent before it settled must have arrived (other ports: no order with the reply).
    await t.receivedAtLeast(theirs.sent, this.exited);
    return theirs.received === before.sent && theirs.sent === before.received && t.sent === before.sent;
  }

  /** Terminates the worker as if it had crashed. @internal for tests of crash handling. */
  async terminateForTest(): Promise<void> {
    await this.#worker.terminate();
  }

  /** One MessageChannel per peer: our end served into the peer's ref, the other end transferred. */
  #sendStart(spec: ThreadSpec): void {
    const ports: Record<string, MessagePort> = {};
    for (const [peer, ref] of Object.entries(spec.peers?.() ?? {})) {
      const { port1, port2 } = new MessageChannel();
      this.#closePeers.push(servePeer(port1, ref, this.#traffic));
      ports[peer] = port2;
      this.#active = true;
    }
    let clock: ClockBoot | null = null;
    const transfer: MessagePort[] = Object.values(ports);
    if (spec.virtualClock !== undefined) {
      const { port1, port2 } = new MessageChannel();
      this.#closePeers.push(serveClock(port1, spec.virtualClock, this.#traffic));
      clock = { shared: spec.virtualClock.shared(), port: port2 };
      transfer.push(port2);
    }
    // Throws DataCloneError if init is not structured-clonable: the start fails.
    this.#worker.postMessage({ kind: 'start', init: spec.init, peers: ports, clock } satisfies HostRequest, transfer);
  }

  #onExit(code: number): void {
    if (this.#state === 'stopping' || this.#state === 'dead') {
      this.#finish();
      return;
    }
    const last = this.#booted.lastError;
    const why = last instanceof Error ? `: ${last.message}` : '';
    this.#die(deadError(this.#name, new Error(`worker thread exited with code ${code}${why}`, { cause: last })));
  }

  /** Crash: reject every in-flight call at once, close the peer channels, end abnormally. */
  #die(err: Error): void {
    if (this.#state === 'dead') return;
    this.#state = 'dead';
    this.#caller.end(err);
    this.#closeChannels();
    this.#exit.resolve({ normal: false, error: err });
  }

  #finish(): void {
    this.#state = 'dead';
    this.#caller.end(new ActorStoppedError(`actor '${this.#name}' stopped`));
    this.#closeChannels();
    this.#exit.resolve({ normal: true });
  }

  #closeChannels(): void {
    for (const close of this.#closePeers.splice(0)) close();
  }
}
