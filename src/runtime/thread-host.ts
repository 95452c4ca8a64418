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
import { MessageChannel, Worker, type MessagePort, type ResourceLimits } from 'node:worker_threads';
import { join } from 'node:path';
import { ActorStoppedError } from '../errors';
import { deadError, deferred, type Incarnation } from './incarnation';
import type { ExitReason } from './supervisor';
import { ActorCrash, type ActorLogic, type Handlers, type PeerRef, type UnexpectedErrorPolicy } from './types';
import { PortCaller, fromWireError, servePeer, type HostReply, type HostRequest, type ThreadBoot, type WireResult } from './wire';

/** The built generic worker entry (next to this file). */
export const THREAD_ENTRY = join(__dirname, 'thread-entry.js');

/** How to start a thread incarnation. @internal */
export interface ThreadSpec {
  name: string;
  logic: ActorLogic<unknown>;
  init?: unknown;
  /** The peers' main-side refs, by the name the actor knows them by. */
  peers?: Record<string, PeerRef<Handlers>>;
  resourceLimits?: ResourceLimits;
  onUnexpectedError?: UnexpectedErrorPolicy;
}

/** @internal */
export class ThreadIncarnation implements Incarnation {
  readonly exited: Promise<ExitReason>;
  readonly #name: string;
  readonly #worker: Worker;
  readonly #caller: PortCaller;
  readonly #ready = deferred<WireResult>();
  readonly #exit = deferred<ExitReason>();
  readonly #closePeers: Array<() => void> = [];
  #state: 'starting' | 'running' | 'stopping' | 'dead' = 'starting';
  #inflight: Promise<unknown> | null = null;
  #lastError: unknown;

  /** Starts the worker and runs the factory in it. Rejects (worker terminated) if either fails. */
  static async start(spec: ThreadSpec): Promise<ThreadIncarnation> {
    const inc = new ThreadIncarnation(spec);
    let r: WireResult;
    try {
      r = await inc.#ready.promise;
    } catch (err) {
      await inc.kill();
      throw err;
    }
    if (!r.ok) {
      await inc.kill();
      throw fromWireError(r.error);
    }
    inc.#state = 'running';
    return inc;
  }

  private constructor(spec: ThreadSpec) {
    this.#name = spec.name;
    this.exited = this.#exit.promise;
    // Awaited by start() only; a late rejection (exit after start) must not be unhandled.
    this.#ready.promise.catch(() => undefined);
    const ports: ThreadBoot['peers'] = {};
    const transfer: MessagePort[] = [];
    for (const [peer, ref] of Object.entries(spec.peers ?? {})) {
      const { port1, port2 } = new MessageChannel();
      this.#closePeers.push(servePeer(port1, ref));
      ports[peer] = port2;
      transfer.push(port2);
    }
    const boot: ThreadBoot = {
      name: spec.name, module: spec.logic.module, export: spec.logic.export, init: spec.init,
      peers: ports, onUnexpectedError: spec.onUnexpectedError ?? 'reject',
    };
    try {
      this.#worker = new Worker(THREAD_ENTRY, { workerData: boot, transferList: transfer, ...(spec.resourceLimits ? { resourceLimits: spec.resourceLimits } : {}) });
    } catch (err) {
      // init not clonable (DataCloneError): nothing started.
      for (const close of this.#closePeers) close();
      throw err;
    }
    this.#caller = new PortCaller(this.#worker);
    this.#worker.on('message', (m: HostReply) => {
      if (m.kind === 'ready') this.#ready.resolve(m.result);
      else this.#caller.onReply(m.id, m.result);
    });
    this.#worker.on('error', (err) => { this.#lastError = err; });
    this.#worker.once('exit', (code) => this.#onExit(code));
  }

  /** Worker thread id (for logs and diagnostics). */
  get threadId(): number {
    return this.#worker.threadId;
  }

  async invoke(type: string, payload: unknown): Promise<unknown> {
    if (this.#state !== 'running') throw new ActorStoppedError(`actor '${this.#name}' is stopping`);
    const call = this.#caller.call((id): HostRequest => ({ kind: 'invoke', id, message: { type, payload } }));
    this.#inflight = call.catch(() => undefined);
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
    await this.#inflight;
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
    this.#ready.reject(new ActorStoppedError(`actor '${this.#name}' was killed while starting`));
    await this.#worker.terminate();
    this.#finish();
  }

  async fault(): Promise<void> {
    this.#lastError = new ActorCrash('fault injected: worker terminated');
    await this.#worker.terminate();
  }

  /** Terminates the worker as if it had crashed. @internal for tests of crash handling. */
  async terminateForTest(): Promise<void> {
    await this.#worker.terminate();
  }

  #onExit(code: number): void {
    if (this.#state === 'stopping' || this.#state === 'dead') {
      this.#finish();
      return;
    }
    const why = this.#lastError instanceof Error ? `: ${this.#lastError.message}` : '';
    const err = deadError(this.#name, new Error(`worker thread exited with code ${code}${why}`, { cause: this.#lastError }));
    this.#ready.reject(err);
    this.#die(err);
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
