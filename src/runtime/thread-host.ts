/**
 * Main side of a thread actor: one incarnation = one worker_threads Worker running a built entry
 * file that calls exposeActor, bridged with Comlink.
 *
 * Comlink's node adapter listens only to `message`: a call to a worker that died would hang
 * forever. Every call is therefore raced against this incarnation's "gone" promise, which rejects
 * (ActorDeadError) on the worker's `error`/`exit`. The proxy is then dropped WITHOUT releaseProxy,
 * which would itself wait for an answer that never comes.
 * @internal
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { PendingCalls } from './pending-calls';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import { ActorDeadError, ActorStoppedError, deserializeError } from '../errors';
import { deferred, type Incarnation } from './incarnation';
import type { ExitReason } from './supervisor';
import type { WireResult, WorkerApi } from './thread-actor';

/** How to start a thread incarnation. @internal */
export interface ThreadSpec {
  name: string;
  /** Absolute path of a built .js entry that calls exposeActor. */
  workerFile: string;
  init?: unknown;
  resourceLimits?: ResourceLimits;
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
  readonly #worker: Worker;
  readonly #api: Comlink.Remote<WorkerApi>;
  readonly #exit = deferred<ExitReason>();
  /** Calls in flight: failed at once when the worker is gone. */
  readonly #pending = new PendingCalls();
  #state: 'starting' | 'running' | 'stopping' | 'dead' = 'starting';
  /** Calls in flight (several when the actor's concurrency allows): stop() lets them finish. */
  readonly #inflight = new Set<Promise<unknown>>();
  #lastError: unknown;

  /** Starts the worker and runs the factory in it. Rejects (worker terminated) if either fails. */
  static async start(spec: ThreadSpec): Promise<ThreadIncarnation> {
    const inc = new ThreadIncarnation(spec);
    let r: WireResult;
    try {
      r = await inc.#call((api) => api.init(spec.name, spec.init));
    } catch (err) {
      await inc.kill();
      throw err;
    }
    if (!r.ok) {
      await inc.kill();
      throw deserializeError(r.error);
    }
    inc.#state = 'running';
    return inc;
  }

  private constructor(spec: ThreadSpec) {
    this.#name = spec.name;
    this.exited = this.#exit.promise;
    this.#worker = new Worker(spec.workerFile, spec.resourceLimits ? { resourceLimits: spec.resourceLimits } : {});
    this.#worker.on('error', (err) => { this.#lastError = err; });
    this.#worker.once('exit', (code) => this.#onExit(code));
    this.#api = Comlink.wrap<WorkerApi>(nodeEndpoint(this.#worker as unknown as Parameters<typeof nodeEndpoint>[0]));
    if (threadStarted.hasSubscribers) {
      threadStarted.publish({ name: spec.name, threadId: this.#worker.threadId, terminate: () => this.terminateForTest() } satisfies ThreadStarted);
    }
  }

  /** Worker thread id (for logs and diagnostics). */
  get threadId(): number {
    return this.#worker.threadId;
  }

  async invoke(type: string, payload: unknown): Promise<unknown> {
    if (this.#state !== 'running') throw new ActorStoppedError(`actor '${this.#name}' is stopping`);
    const call = this.#call((api) => api.invoke(type, payload));
    const settled = call.catch(() => undefined);
    this.#inflight.add(settled);
    void settled.then(() => this.#inflight.delete(settled));
    const r = await call;
    if (r.ok) return r.value;
    const error = deserializeError(r.error);
    if (r.crash) {
      // The handler declared the actor broken (ActorCrash): end this incarnation.
      const dead = new ActorDeadError(`actor '${this.#name}' crashed: ${r.error.message}`, { cause: error });
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
      await this.#call((api) => api.stop());
    } catch {
      // Died meanwhile: nothing left to stop.
    }
    await this.#worker.terminate();
    this.#finish();
  }

  async kill(): Promise<void> {
    if (this.#state === 'dead') return;
    this.#state = 'stopping';
    this.#pending.end(new ActorStoppedError(`actor '${this.#name}' was killed`));
    await this.#worker.terminate();
    this.#finish();
  }

  /** Terminates the worker as if it had crashed. @internal for tests of crash handling. */
  async terminateForTest(): Promise<void> {
    await this.#worker.terminate();
  }

  #call(fn: (api: Comlink.Remote<WorkerApi>) => unknown): Promise<WireResult> {
    // Comlink's Remote<> type distributes over the WireResult union; the value is a WireResult.
    return this.#pending.track(fn(this.#api) as Promise<WireResult>);
  }

  #onExit(code: number): void {
    if (this.#state === 'stopping' || this.#state === 'dead') {
      this.#finish();
      return;
    }
    const why = this.#lastError instanceof Error ? `: ${this.#lastError.message}` : '';
    this.#die(new ActorDeadError(`actor '${this.#name}': worker thread exited with code ${code}${why}`, { cause: this.#lastError }));
  }

  /** Crash: reject every in-flight call at once, end the incarnation abnormally. */
  #die(err: ActorDeadError): void {
    if (this.#state === 'dead') return;
    this.#state = 'dead';
    this.#pending.end(err);
    this.#exit.resolve({ normal: false, error: err });
  }

  #finish(): void {
    this.#state = 'dead';
    this.#pending.end(new ActorStoppedError(`actor '${this.#name}' stopped`));
    this.#exit.resolve({ normal: true });
  }
}
