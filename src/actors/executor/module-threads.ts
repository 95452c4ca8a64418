/**
 * JS job modules with `isolation: 'thread'`, on Piscina worker threads running
 * `src/workers/module-task.ts` (docs/jobs.md "Thread or process", docs/architecture.md "Executor").
 *
 * - **Batches.** Runs without a timeout or memory cap are collected for one microtask and sent
 *   many per Piscina task (at most {@link MAX_BATCH}, spread over the threads): the per-message
 *   cost of a thread hop is paid per batch, not per run.
 * - **Solo runs.** A run with a timeout or a memory cap is its own task, with an AbortSignal: Piscina
 *   gives such a task a thread of its own and, when the signal aborts, terminates that thread and
 *   starts a replacement. So a module that ignores its abort (a busy loop, a promise that never
 *   settles) can be stopped without touching any other run.
 * - **Memory caps** are the thread's V8 heap (`resourceLimits.maxOldGenerationSizeMb`), fixed per
 *   thread: runs with a cap go to a small Piscina instance per distinct cap (in MiB), created on
 *   first use, whose idle threads exit after 30 s.
 * - **Failing instances are replaced**, as in the process pool: a thread that asks to retire (a
 *   module called process.exit, an error escaped, too many reloads) or dies retires its instance;
 *   new runs go to a fresh one and the old one is destroyed once its runs are over.
 * @internal
 */
import os from 'node:os';
import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Logger } from '../../model';
import { formatDuration } from '../../model/duration';
import { cancelCause, timeoutCause } from '../../workers/run/cancel';
import { endedEarly } from './result';
import {
  isModuleThreadEvent, packRequests, unpackResult, type ModuleTaskPayload, type ModuleTaskResult, type ModuleThreadCommand, type ModuleThreadData,
  type ModuleThreadEvent,
} from './thread-protocol';
import type { RunHandle } from './pool';
import { DEFAULT_KILL_GRACE_MS, type CancelReason, type RunRequest, type RunResult } from './types';

/** Most runs in one Piscina task. */
export const MAX_BATCH = 64;
/** After the grace, how long the worker's own report of a stopped run may take before the thread is terminated. */
const TERMINATE_SLACK_MS = 250;
const IDLE_MS = 30_000;
const MIB = 1024 * 1024;
let poolSeq = 0;

/** Options of {@link ModuleThreads}. */
export interface ModuleThreadsOptions {
  maxConcurrent: number;
  /** Threads always up for batched runs. */
  threads: number;
  /** Most threads of one instance (solo runs each hold one). */
  maxThreads: number;
  workerFile: string;
  logger: Logger;
}

/** One Piscina instance of module threads. */
interface ThreadPool {
  piscina: Piscina<ModuleTaskPayload, ModuleTaskResult>;
  commands: BroadcastChannel;
  /** Tasks submitted and not settled. */
  tasks: number;
  retired: boolean;
  /** Why a thread of it failed, if one did. */
  failure: string | null;
  /** `null` = the shared instance; else the heap cap in MiB. */
  capMb: number | null;
}

/**
 * A thread run on the main thread's side; it is also the run's public handle. Its `result` promise
 * is made only when someone asks for it: the executor takes results through `onDone`, and a
 * promise (with its resolver closure and a `then` per run) was a measurable part of the main
 * thread's per-run cost at tens of thousands of runs per second.
 */
class ThreadEntry {
  #promise: Promise<RunResult> | null = null;
  #resolvePromise: ((r: RunResult) => void) | null = null;
  #value: RunResult | null = null;
  done = false;
  cancelled: CancelReason | null = null;
  pool: ThreadPool | null = null;
  /** Solo runs: aborting terminates the run's thread. */
  abort: AbortController | null = null;
  /** Solo runs: when the thread reported the start (epoch ms), else 0. */
  startedAt = 0;
  watchdog: NodeJS.Timeout | null = null;
  /** Why the thread was terminated, if it was. */
  terminated: string | null = null;

  constructor(readonly req: RunRequest, readonly owner: ModuleThreads, readonly onDone: (r: RunResult) => void) {}

  /** Resolves with the run's result; never rejects. */
  get result(): Promise<RunResult> {
    if (this.#promise === null) {
      this.#promise = this.#value !== null
        ? Promise.resolve(this.#value)
        : new Promise<RunResult>((resolve) => (this.#resolvePromise = resolve));
    }
    return this.#promise;
  }

  /** Called once, with the run's result (from #settle). */
  resolve(r: RunResult): void {
    this.#value = r;
    this.owner.ended(this);
    this.onDone(r);
    this.#resolvePromise?.(r);
  }

  get timeoutMs(): number | null {
    return this.req.limits.timeoutMs ?? null;
  }

  get killGraceMs(): number {
    return this.req.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  }

  /** Stops the run (see RunHandle.cancel). */
  cancel(reason: CancelReason): void {
    this.owner.cancel(this, reason);
  }
}

/** The thread side of the executor. */
export class ModuleThreads {
  readonly #o: ModuleThreadsOptions;
  readonly #pools = new Set<ThreadPool>();
  #shared: ThreadPool | null = null;
  readonly #capped = new Map<number, ThreadPool>();
  readonly #batches = new Map<number, ThreadEntry[]>();
  readonly #running = new Set<ThreadEntry>();
  #buffer: ThreadEntry[] = [];
  #batchSeq = 0;

  constructor(opts: ModuleThreadsOptions) {
    this.#o = opts;
  }

  /** Default threads: one per core (at least 2), at most `maxConcurrent`. */
  static defaultThreads(maxConcurrent: number): number {
    return Math.max(1, Math.min(maxConcurrent, Math.max(2, os.availableParallelism())));
  }

  /** Runs started and not finished. */
  get running(): ReadonlySet<RunHandle> {
    return this.#running;
  }

  /**
   * Starts a thread run. Its result never rejects; `onDone` is called with it just before it resolves.
   */
  start(req: RunRequest, onDone: (r: RunResult) => void): RunHandle {
    const entry = new ThreadEntry(req, this, onDone);
    this.#running.add(entry);
    if (req.limits.timeoutMs !== undefined || req.limits.maxMemoryBytes !== undefined) this.#solo(entry);
    else {
      this.#buffer.push(entry);
      if (this.#buffer.length === 1) queueMicrotask(() => this.#flush());
    }
    return entry;
  }

  /** Destroys every instance; runs still in them end with their cancel's status. */
  async destroy(): Promise<void> {
    this.#flush();
    await Promise.all([...this.#pools].map((p) => this.#destroy(p)));
  }

  #flush(): void {
    const runs = this.#buffer;
    if (runs.length === 0) return;
    this.#buffer = [];
    const live = runs.filter((e) => !e.done);
    const pool = this.#pool(null);
    // Spread a burst over the threads that are (probably) idle; once every thread has work, keep
    // batches whole: splitting each returning batch again would halve them down to one run each.
    const pieces = Math.max(1, this.#o.threads - pool.tasks);
    const per = Math.min(MAX_BATCH, Math.max(1, Math.ceil(live.length / pieces)));
    for (let i = 0; i < live.length; i += per) this.#submit(live.slice(i, i + per), false, pool);
  }

  #solo(entry: ThreadEntry): void {
    entry.abort = new AbortController();
    const cap = entry.req.limits.maxMemoryBytes ?? null;
    this.#submit([entry], true, this.#pool(cap === null ? null : Math.max(1, Math.ceil(cap / MIB))));
  }

  #submit(entries: ThreadEntry[], solo: boolean, pool: ThreadPool): void {
    const batch = ++this.#batchSeq;
    for (const e of entries) e.pool = pool;
    this.#batches.set(batch, entries);
    pool.tasks++;
    const task: ModuleTaskPayload = { batch, solo, ...packRequests(entries.map((e) => e.req)) };
    const signal = solo ? entries[0]!.abort!.signal : undefined;
    pool.piscina.run(task, signal ? { signal } : {}).then(
      (results) => {
        for (let i = 0; i < results.length; i++) {
          const r = results[i];
          if (r) this.#settle(entries[i]!, unpackResult(r));
        }
        this.#taskOver(pool, batch, entries, null);
      },
      (err: unknown) => this.#taskOver(pool, batch, entries, err),
    );
  }

  /** A task settled; anything of it without a result ends here (its thread died or was terminated). */
  #taskOver(pool: ThreadPool, batch: number, entries: ThreadEntry[], err: unknown): void {
    pool.tasks--;
    if (err !== null) {
      const aborted = (err as Error)?.name === 'AbortError';
      const oom = (err as NodeJS.ErrnoException)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
      if (!aborted && !oom) {
        pool.failure ??= (err as Error)?.message ?? String(err);
        this.#retire(pool, `a module thread failed: ${pool.failure}`);
      }
      for (const e of entries) if (!e.done) this.#settle(e, this.#lost(e, err, oom));
    }
    // Early results travel on another channel and may still be on their way: keep the batch until
    // every run of it has its result.
    if (entries.every((e) => e.done)) this.#batches.delete(batch);
    if (pool.retired && pool.tasks === 0) void this.#destroy(pool);
  }

  /** The result of a run whose thread ended under it. */
  #lost(e: ThreadEntry, err: unknown, oom: boolean): RunResult {
    if (oom) {
      const cap = e.req.limits.maxMemoryBytes ?? 0;
      return endedEarly('killed',
        `exceeded the memory limit: the thread's JS heap reached maxMemoryBytes ${(cap / MIB).toFixed(1)} MB ` +
        '(a thread job caps the V8 heap); the thread was terminated');
    }
    if (e.terminated !== null) {
      const cause = e.cancelled ? cancelCause(e.cancelled) : timeoutCause(e.timeoutMs ?? 0);
      return this.#since(e, endedEarly(cause.status, `${cause.error}; ${e.terminated}`));
    }
    if (e.cancelled) {
      const cause = cancelCause(e.cancelled);
      return this.#since(e, endedEarly(cause.status, cause.error));
    }
    return endedEarly('failed', `the module thread failed: ${e.pool?.failure ?? (err as Error)?.message ?? String(err)}`);
  }

  /** A result made here covers the run from its thread's start report, when there was one. */
  #since(e: ThreadEntry, r: RunResult): RunResult {
    if (e.startedAt === 0) return r;
    return { ...r, startedAt: e.startedAt, durationMs: r.finishedAt - e.startedAt };
  }

  #settle(e: ThreadEntry, r: RunResult): void {
    if (e.done) return;
    e.done = true;
    if (e.watchdog) clearTimeout(e.watchdog);
    e.resolve(r);
  }

  /** @internal {@link ThreadEntry.resolve}: the run is over. */
  ended(e: ThreadEntry): void {
    this.#running.delete(e);
  }

  /** @internal {@link ThreadEntry.cancel} */
  cancel(e: ThreadEntry, reason: CancelReason): void {
    if (e.done || e.cancelled) return;
    e.cancelled = reason;
    if (e.pool === null) {
      // Still in the buffer: it never reaches a thread.
      const cause = cancelCause(reason);
      return this.#settle(e, endedEarly(cause.status, cause.error));
    }
    e.pool.commands.postMessage({ type: 'cancel', runId: e.req.runId, reason } satisfies ModuleThreadCommand);
    if (e.abort === null) return; // a shared thread: the worker itself gives up on the run after the grace
    if (e.startedAt === 0) {
      // Queued in Piscina, not on a thread yet: aborting only takes it out of the queue.
      e.abort.abort();
      return;
    }
    if (e.watchdog) clearTimeout(e.watchdog);
    e.watchdog = this.#terminateAfter(e, e.killGraceMs);
  }

  /** Terminates a solo run's thread if the run has not reported within `ms` + slack. */
  #terminateAfter(e: ThreadEntry, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      if (e.done) return;
      e.terminated = `the module did not stop within ${formatDuration(e.killGraceMs)} of its abort signal, so its thread was terminated`;
      e.abort?.abort();
    }, ms + TERMINATE_SLACK_MS);
    t.unref();
    return t;
  }

  #onEvent(pool: ThreadPool, msg: ModuleThreadEvent): void {
    switch (msg.type) {
      case 'rae.results': {
        const entries = this.#batches.get(msg.batch);
        if (!entries) return;
        for (const [i, r] of msg.items) if (entries[i]) this.#settle(entries[i], unpackResult(r));
        // The task's own answer may have come first (the two travel on different ports).
        if (entries.every((e) => e.done)) this.#batches.delete(msg.batch);
        return;
      }
      case 'rae.started': {
        const e = this.#batches.get(msg.batch)?.[0];
        if (!e || e.done || e.startedAt !== 0) return;
        e.startedAt = msg.startedAt;
        const { timeoutMs, killGraceMs } = e;
        if (e.cancelled) e.watchdog = this.#terminateAfter(e, killGraceMs);
        else if (timeoutMs !== null) e.watchdog = this.#terminateAfter(e, timeoutMs + killGraceMs);
        return;
      }
      case 'rae.retire':
        this.#retire(pool, msg.reason);
        return;
    }
  }

  #pool(capMb: number | null): ThreadPool {
    const current = capMb === null ? this.#shared : this.#capped.get(capMb);
    if (current && !current.retired) return current;
    const { threads, maxThreads, maxConcurrent, workerFile } = this.#o;
    const name = `rae-sched:module-threads:${process.pid}:${++poolSeq}`;
    const commands = new BroadcastChannel(name);
    commands.unref();
    const piscina = new Piscina<ModuleTaskPayload, ModuleTaskResult>({
      filename: workerFile,
      workerData: { commands: name } satisfies ModuleThreadData,
      minThreads: capMb === null ? Math.min(threads, maxThreads) : 0,
      maxThreads,
      idleTimeout: IDLE_MS,
      // Batches of async runs share a thread; a capped thread is one run's alone (its OOM ends it).
      concurrentTasksPerWorker: capMb === null ? Math.max(1, Math.ceil(maxConcurrent / threads)) : 1,
      recordTiming: false,
      // Modules may leave work running between tasks (timers, sockets): never park the loop in Atomics.wait.
      atomics: 'disabled',
      ...(capMb !== null ? { resourceLimits: { maxOldGenerationSizeMb: capMb } } : {}),
    });
    const pool: ThreadPool = { piscina, commands, tasks: 0, retired: false, failure: null, capMb };
    piscina.on('message', (msg: unknown) => {
      if (isModuleThreadEvent(msg)) this.#onEvent(pool, msg);
    });
    piscina.on('error', (err: unknown) => {
      // A thread that failed with no run on it: at bootstrap (e.g. a heap cap too small to boot a
      // thread), after which Piscina never starts another one, or at idle.
      pool.failure = capMb !== null && (err as NodeJS.ErrnoException)?.code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? `maxMemoryBytes ${capMb} MB is too small for a worker thread to start (its JS heap ran out while booting)`
        : (err as Error)?.message ?? String(err);
      this.#retire(pool, `a module thread failed: ${pool.failure}`);
      // With no thread left, what waits in its queue would wait forever: destroying it ends those runs.
      if (piscina.threads.length === 0) void this.#destroy(pool);
    });
    this.#pools.add(pool);
    if (capMb === null) this.#shared = pool;
    else this.#capped.set(capMb, pool);
    return pool;
  }

  #retire(pool: ThreadPool, reason: string): void {
    if (pool.retired) return;
    pool.retired = true;
    if (this.#shared === pool) this.#shared = null;
    if (pool.capMb !== null && this.#capped.get(pool.capMb) === pool) this.#capped.delete(pool.capMb);
    this.#o.logger.warn({ reason }, 'executor: retiring module threads; new runs go to fresh ones');
    if (pool.tasks === 0) void this.#destroy(pool);
  }

  async #destroy(pool: ThreadPool): Promise<void> {
    if (!this.#pools.delete(pool)) return;
    if (this.#shared === pool) this.#shared = null;
    if (pool.capMb !== null && this.#capped.get(pool.capMb) === pool) this.#capped.delete(pool.capMb);
    try {
      await pool.piscina.destroy();
    } catch (err) {
      this.#o.logger.warn({ err }, 'executor: destroying module threads failed');
    } finally {
      pool.commands.close();
    }
  }
}
