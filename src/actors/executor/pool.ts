/**
 * The executor's pools of worker threads (ARCHITECTURE "Flow of a job", step 3; docs/architecture.md
 * "Executor"): process runs (commands, modules with `isolation: 'process'`) go to the Piscina task
 * in `src/workers/run-task.ts`, which spawns and supervises them; JS modules with
 * `isolation: 'thread'` go to {@link ModuleThreads}, which runs them inside worker threads. Every
 * run's outcome is reported as data.
 */
import os from 'node:os';
import path from 'node:path';
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Logger } from '../../api';
import { ShutdownError, ValidationError } from '../../errors';
import { ModuleThreads } from './module-threads';
import { killRunGroups, removeOwnGroups } from '../../workers/run/cgroup';
import {
  DEFAULT_KILL_GRACE_MS, type CancelReason, type FromTaskMessage, type RunRequest, type RunResult, type RunTaskPayload, type ToTaskMessage,
} from './types';

/** Options of {@link ExecutorPool}. */
export interface ExecutorPoolOptions {
  /** Runs executing at once. More can be started; they wait in the pool's queue. */
  maxConcurrent: number;
  logger?: Logger;
  /** The built task file. @default dist/src/workers/run-task.js beside this file */
  workerFile?: string;
  /** Worker threads supervising processes. A run mostly awaits its child process, so few are needed. @default min(2, maxConcurrent) */
  threads?: number;
  /** The built task file of thread modules. @default dist/src/workers/module-task.js beside this file */
  moduleWorkerFile?: string;
  /** Worker threads kept for thread modules. @default one per core (at least 2), at most maxConcurrent */
  moduleThreads?: number;
  /**
   * Most threads of thread modules; a run with a timeout or memory cap holds one alone.
   * @default min(maxConcurrent, max(4, 2 × cores)), at least moduleThreads
   */
  maxModuleThreads?: number;
}

/** Callbacks of one run. */
export interface RunHooks {
  /**
   * The process has spawned. Always called before `result` resolves, if the process started at all.
   * Thread modules: called with `pid: null` just before the result (no message per run is spent on it).
   */
  onStarted?(info: { pid: number | null; startedAt: number }): void;
}

/** A run in progress. */
export interface RunHandle {
  /** Resolves with the run's result; never rejects. */
  result: Promise<RunResult>;
  /** Stops the run: its whole process group is killed. `shutdown` → `interrupted`, else `killed`. */
  cancel(reason: CancelReason): void;
}

/** One Piscina instance and the runs it holds; retired pools drain, then are destroyed. */
interface PoolSlot {
  piscina: Piscina<RunTaskPayload, RunResult>;
  /** Runs submitted to this instance and not settled. */
  runs: Set<RunChannel>;
  retired: boolean;
}

/** The main thread's end of one run's port, re-created if the run is resubmitted. */
interface RunChannel {
  port: MessagePort | null;
  pid: number | null;
  cancel: CancelReason | null;
  onMessage(msg: FromTaskMessage): void;
}

const SILENT: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const noop = (): void => undefined;

/**
 * How long a worker thread above the first may stay idle before Piscina retires it. Piscina's
 * default is 0: the thread is torn down the moment it has no task and booted again (~50-100 ms of
 * CPU: a V8 isolate and our modules) on the next run. Runs reach the pool one by one, so under the
 * scheduler that churn booted a thread every two or three runs (bench/executor-spawn.ts,
 * docs/benchmarks.md).
 */
const THREAD_IDLE_MS = 30_000;

/**
 * Worker-thread pool for runs.
 *
 * A worker that fails makes the whole Piscina instance suspect (one failing at bootstrap stops
 * Piscina creating replacements for good), so the instance is retired: new runs go to a fresh one,
 * runs already executing on the old one finish there, and runs that never started are resubmitted.
 * @example
 * const pool = new ExecutorPool({ maxConcurrent: 4 });
 * const { result } = pool.start({ runId, jobId, attempt: 1, command: 'echo hi', module: null, cwd: null, env: {}, limits: {} });
 * console.log((await result).status); // 'succeeded'
 * // A JS module in a worker thread:
 * pool.start({ runId, jobId, attempt: 1, command: null, module: '/jobs/report.js', isolation: 'thread', cwd: null, env: {}, limits: {} });
 */
export class ExecutorPool {
  readonly #opts: Required<Pick<ExecutorPoolOptions, 'maxConcurrent' | 'threads' | 'workerFile'>>;
  readonly #log: Logger;
  readonly #slots = new Set<PoolSlot>();
  readonly #runs = new Map<string, { handle: RunHandle; settled: Promise<unknown> }>();
  readonly #modules: ModuleThreads;
  #current: PoolSlot | null = null;
  #closing = false;
  #seq = 0;

  constructor(opts: ExecutorPoolOptions) {
    const { maxConcurrent } = opts;
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
      throw new ValidationError(`maxConcurrent: must be an integer >= 1 (got ${maxConcurrent})`, 'maxConcurrent');
    }
    const threads = opts.threads ?? Math.min(2, maxConcurrent);
    if (!Number.isInteger(threads) || threads < 1) {
      throw new ValidationError(`threads: must be an integer >= 1 (got ${threads})`, 'threads');
    }
    this.#opts = {
      maxConcurrent,
      threads,
      workerFile: opts.workerFile ?? path.join(__dirname, '..', '..', 'workers', 'run-task.js'),
    };
    this.#log = opts.logger ?? SILENT;
    const moduleThreads = opts.moduleThreads ?? ModuleThreads.defaultThreads(maxConcurrent);
    const maxModuleThreads = Math.max(moduleThreads, opts.maxModuleThreads ?? Math.min(maxConcurrent, Math.max(4, 2 * os.availableParallelism())));
    for (const [field, n] of [['moduleThreads', moduleThreads], ['maxModuleThreads', maxModuleThreads]] as const) {
      if (!Number.isInteger(n) || n < 1) throw new ValidationError(`${field}: must be an integer >= 1 (got ${n})`, field);
    }
    this.#modules = new ModuleThreads({
      maxConcurrent,
      threads: moduleThreads,
      maxThreads: maxModuleThreads,
      workerFile: opts.moduleWorkerFile ?? path.join(__dirname, '..', '..', 'workers', 'module-task.js'),
      logger: this.#log,
    });
  }

  /** Runs started and not yet finished. */
  get running(): number {
    return this.#runs.size + this.#modules.running.size;
  }

  /**
   * Starts a run. Job failures of every kind (non-zero exit, limits, cannot start, even a crashed
   * worker thread) resolve `result` with a status; it never rejects.
   * @throws ShutdownError after {@link ExecutorPool.close} began.
   */
  start(req: RunRequest, hooks: RunHooks = {}): RunHandle {
    if (this.#closing) throw new ShutdownError('executor: the pool is closing and takes no new runs');
    if (req.module !== null && req.isolation === 'thread') return this.#startThread(req, hooks);
    const key = `${req.runId}#${++this.#seq}`;
    const channel: RunChannel = {
      port: null,
      pid: null,
      cancel: null,
      onMessage: (msg: FromTaskMessage) => {
        if (msg?.type !== 'started') return;
        channel.pid = msg.pid;
        try {
          hooks.onStarted?.({ pid: msg.pid, startedAt: msg.startedAt });
        } catch (err) {
          this.#log.error({ err, runId: req.runId }, 'executor: onStarted hook threw');
        }
      },
    };
    let done = false;
    const result = this.#submit(req, channel, false).then((r) => {
      done = true;
      const port = channel.port;
      // The 'started' message travels on the port, the result on Piscina's channel: deliver any
      // started message still queued so onStarted always precedes the result.
      for (let m = port && receiveMessageOnPort(port); m; m = receiveMessageOnPort(port!)) {
        channel.onMessage(m.message as FromTaskMessage);
      }
      port?.close();
      this.#runs.delete(key);
      return r;
    });
    const handle: RunHandle = {
      result,
      cancel: (reason) => {
        if (done || channel.cancel) return;
        channel.cancel = reason;
        channel.port?.postMessage({ type: 'cancel', reason } satisfies ToTaskMessage);
      },
    };
    this.#runs.set(key, { handle, settled: result });
    return handle;
  }

  /** A JS module run in a worker thread (module-threads.ts). */
  #startThread(req: RunRequest, hooks: RunHooks): RunHandle {
    const onStarted = hooks.onStarted;
    return this.#modules.start(req, onStarted === undefined ? noop : (r) => {
      try {
        onStarted({ pid: null, startedAt: r.startedAt });
      } catch (err) {
        this.#log.error({ err, runId: req.runId }, 'executor: onStarted hook threw');
      }
    });
  }

  /**
   * Stops taking runs, waits up to `graceMs` for running ones, then cancels the rest with
   * `shutdown` (they end `interrupted`), waits for them and releases the threads.
   */
  async close(opts: { graceMs: number }): Promise<void> {
    this.#closing = true;
    const all = () => Promise.all([...this.#runs.values()].map((r) => r.settled).concat([...this.#modules.running].map((h) => h.result)));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace'>((resolve) => (timer = setTimeout(() => resolve('grace'), Math.max(0, opts.graceMs))));
    const first = await Promise.race([all().then(() => 'done' as const), graceOver]);
    clearTimeout(timer);
    if (first === 'grace') {
      for (const { handle } of this.#runs.values()) handle.cancel('shutdown');
      for (const handle of this.#modules.running) handle.cancel('shutdown');
      // A module stuck on a shared thread (a busy loop) never answers its abort: destroying the
      // module threads ends it, and its run with its cancel's status.
      let stuck: NodeJS.Timeout | undefined;
      await Promise.race([all(), new Promise((resolve) => (stuck = setTimeout(resolve, DEFAULT_KILL_GRACE_MS + 1000)))]);
      clearTimeout(stuck);
      await this.#modules.destroy();
      await all();
    }
    await this.#modules.destroy();
    await Promise.all([...this.#slots].map((slot) => this.#destroy(slot)));
    this.#current = null;
    // Every run's cgroup is gone with its run; this process's (empty) owner group goes too.
    removeOwnGroups();
  }

  /** Submits to the current Piscina; a run whose worker died before it spawned is resubmitted once. */
  async #submit(req: RunRequest, channel: RunChannel, resubmitted: boolean): Promise<RunResult> {
    const { port1, port2 } = new MessageChannel();
    channel.port?.close();
    channel.port = port1;
    port1.on('message', channel.onMessage);
    // Our end must not keep the process alive on its own (the pending task does that).
    port1.unref();
    if (channel.cancel) port1.postMessage({ type: 'cancel', reason: channel.cancel } satisfies ToTaskMessage);
    const slot = this.#pool();
    slot.runs.add(channel);
    let failure: unknown;
    try {
      return await slot.piscina.run({ request: req, port: port2 }, { transferList: [port2] });
    } catch (err) {
      // The task itself never throws: this is the worker thread dying under it.
      failure = err;
      this.#retire(slot, err);
    } finally {
      slot.runs.delete(channel);
      this.#destroyIfIdle(slot);
    }
    if (channel.pid !== null) {
      // The run's process group outlives its thread (it is detached): do not leave it unowned.
      try {
        process.kill(-channel.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      void killRunGroups([req.runId]); // and its cgroup, whose owner thread is gone
    } else if (!resubmitted) {
      this.#log.warn({ runId: req.runId, err: failure }, 'executor: resubmitting a run whose worker failed before it started');
      return this.#submit(req, channel, true);
    }
    return workerFailure(`the executor worker thread failed: ${(failure as Error)?.message ?? String(failure)}`);
  }

  #pool(): PoolSlot {
    if (this.#current && !this.#current.retired) return this.#current;
    const { threads, maxConcurrent, workerFile } = this.#opts;
    const piscina = new Piscina<RunTaskPayload, RunResult>({
      filename: workerFile,
      minThreads: 1,
      maxThreads: threads,
      idleTimeout: THREAD_IDLE_MS,
      concurrentTasksPerWorker: Math.ceil(maxConcurrent / threads),
      // The tasks listen on their ports between awaits; never let an idle worker block in Atomics.wait.
      atomics: 'disabled',
    });
    const slot: PoolSlot = { piscina, runs: new Set(), retired: false };
    piscina.on('error', (err: unknown) => this.#retire(slot, err));
    this.#slots.add(slot);
    this.#current = slot;
    return slot;
  }

  #retire(slot: PoolSlot, err: unknown): void {
    if (slot.retired) return;
    slot.retired = true;
    if (this.#current === slot) this.#current = null;
    this.#log.error({ err }, 'executor: a worker thread failed; replacing the pool');
    this.#destroyIfIdle(slot);
  }

  /**
   * Destroys a retired instance once no process of it is running. Runs still queued in it (a pool
   * whose workers fail at bootstrap would hold them forever) are rejected by the destroy and
   * resubmitted to the fresh instance.
   */
  #destroyIfIdle(slot: PoolSlot): void {
    if (!slot.retired) return;
    for (const run of slot.runs) if (run.pid !== null) return;
    void this.#destroy(slot);
  }

  async #destroy(slot: PoolSlot): Promise<void> {
    if (!this.#slots.delete(slot)) return;
    try {
      await slot.piscina.destroy();
    } catch (err) {
      this.#log.warn({ err }, 'executor: destroying a pool failed');
    }
  }
}

function workerFailure(error: string): RunResult {
  const now = Date.now();
  return {
    status: 'failed', exitCode: null, signal: null, startedAt: now, finishedAt: now, durationMs: 0,
    peakMemoryBytes: null, error, output: '',
  };
}
