/**
 * The executor's pools of worker threads (ARCHITECTURE "Flow of a job", step 3; docs/architecture.md
 * "Executor"): process runs (commands, modules with `isolation: 'process'`) go to the run host
 * process (`src/workers/run-host.ts`, src/actors/executor/run-host.ts), which spawns and supervises
 * them; JS modules with
 * `isolation: 'thread'` go to {@link ModuleThreads}, which runs them inside worker threads. Every
 * run's outcome is reported as data.
 */
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../model';
import { ShutdownError, ValidationError } from '../../errors';
import { ModuleThreads } from './module-threads';
import { killRunGroups, removeOwnGroups } from '../../workers/run/cgroup';
import { containment } from '../../workers/run/cgroup-detect';
import { schedulerOwnerToken } from '../../workers/run/job-env';
import { DEFAULT_KILL_GRACE_MS, type CancelReason, type RunRequest, type RunResult } from './types';
import { endedEarly } from './result';
import { cancelCause } from '../../workers/run/cancel';
import { RunHost, type HostRun } from './run-host';

/** Options of {@link ExecutorPool}. */
export interface ExecutorPoolOptions {
  /** Runs executing at once. More can be started; they wait in the pool's queue. */
  maxConcurrent: number;
  logger?: Logger;
  /** The built run host file. @default dist/src/workers/run-host.js beside this file */
  hostFile?: string;
  /**
   * Most run host processes spawning and supervising process runs (more start only while every
   * host has runs in flight). A spawn blocks its host's one thread for the fork and the child's
   * exec, so one host spawns at most as fast as one bare spawn loop; a second one spawns on the
   * other core. @default {@link ExecutorPool.defaultHosts}
   */
  hosts?: number;
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
  /**
   * The run's result, just before `result` resolves with it (the executor takes results here: no
   * promise and `then` per run). It must not throw.
   */
  onDone?(result: RunResult): void;
}

/** A run in progress. */
export interface RunHandle {
  /** Resolves with the run's result; never rejects. */
  result: Promise<RunResult>;
  /** Stops the run: its whole process group is killed. `shutdown` → `interrupted`, else `killed`. */
  cancel(reason: CancelReason): void;
}

/** Environment variable setting the number of run hosts ({@link ExecutorPool.defaultHosts}). */
export const RUN_HOSTS_ENV = 'RAE_SCHED_RUN_HOSTS';
/** Most run hosts by default, however many cores. */
const MAX_DEFAULT_HOSTS = 4;

const SILENT: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const noop = (): void => undefined;

/**
 * The pool of runs: process runs in the run host process(es), thread modules in worker threads.
 *
 * A run host that dies takes nothing with it silently: runs it had spawned have their process
 * group and cgroup killed and end `failed` (saying so); runs it had not spawned yet are handed
 * once to a fresh host (a host that fails at boot does not lose its runs).
 * @example
 * const pool = new ExecutorPool({ maxConcurrent: 4 });
 * const { result } = pool.start({ runId, jobId, attempt: 1, command: 'echo hi', module: null, cwd: null, env: {}, limits: {} });
 * console.log((await result).status); // 'succeeded'
 * // A JS module in a worker thread:
 * pool.start({ runId, jobId, attempt: 1, command: null, module: '/jobs/report.js', isolation: 'thread', cwd: null, env: {}, limits: {} });
 */
export class ExecutorPool {
  readonly #opts: Required<Pick<ExecutorPoolOptions, 'maxConcurrent' | 'hosts' | 'hostFile'>>;
  readonly #log: Logger;
  /** Live run hosts (at most `hosts`): the first started with the pool, more as runs need them. */
  readonly #hosts = new Set<RunHost>();
  readonly #runs = new Map<number, { handle: RunHandle; settled: Promise<unknown> }>();
  readonly #modules: ModuleThreads;
  #closing = false;
  #seq = 0;
  /** Runs handed to a second host already (their first died before they spawned). */
  readonly #resubmitted = new WeakSet<HostRun>();

  constructor(opts: ExecutorPoolOptions) {
    const { maxConcurrent } = opts;
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
      throw new ValidationError(`maxConcurrent: must be an integer >= 1 (got ${maxConcurrent})`, 'maxConcurrent');
    }
    const hosts = opts.hosts ?? ExecutorPool.defaultHosts();
    if (!Number.isInteger(hosts) || hosts < 1) {
      throw new ValidationError(`hosts: must be an integer >= 1 (got ${hosts})`, 'hosts');
    }
    this.#opts = {
      maxConcurrent,
      hosts,
      hostFile: opts.hostFile ?? path.join(__dirname, '..', '..', 'workers', 'run-host.js'),
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
    // The first run host boots now (a node process: ~0.1–1 s), not under the first run.
    this.#host();
  }

  /**
   * Run hosts by default: one per core, at most {@link MAX_DEFAULT_HOSTS} (each is a node process
   * of ~40 MB, booted only once every host already has runs in flight). `RAE_SCHED_RUN_HOSTS=N`
   * sets it (for A/B measurements; docs/jobs.md "How it runs").
   * @throws ValidationError when RAE_SCHED_RUN_HOSTS is set and is not an integer >= 1.
   */
  static defaultHosts(env: NodeJS.ProcessEnv = process.env): number {
    const set = env[RUN_HOSTS_ENV];
    if (set === undefined || set === '') return Math.min(MAX_DEFAULT_HOSTS, Math.max(1, os.availableParallelism()));
    const n = Number(set);
    if (!Number.isInteger(n) || n < 1) throw new ValidationError(`${RUN_HOSTS_ENV} must be an integer >= 1, got '${set}'`, RUN_HOSTS_ENV);
    return n;
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
    const key = ++this.#seq;
    let resolve!: (r: RunResult) => void;
    const result = new Promise<RunResult>((r) => (resolve = r));
    const run: HostRun = {
      key,
      request: req,
      pid: null,
      cancel: null,
      onStarted: (pid, startedAt) => {
        try {
          hooks.onStarted?.({ pid, startedAt });
        } catch (err) {
          this.#log.error({ err, runId: req.runId }, 'executor: onStarted hook threw');
        }
      },
      onDone: (r) => {
        this.#runs.delete(key);
        hooks.onDone?.(r);
        resolve(r);
      },
    };
    let host = this.#host();
    host.submit(run);
    const handle: RunHandle = {
      result,
      cancel: (reason) => {
        if (run.cancel !== null || !this.#runs.has(key)) return;
        run.cancel = reason;
        // The run may have moved to another host (its first one died before it spawned).
        for (const h of this.#hosts) if (h.runs.has(key)) host = h;
        host.cancel(key, reason);
      },
    };
    this.#runs.set(key, { handle, settled: result });
    return handle;
  }

  /** A JS module run in a worker thread (module-threads.ts). */
  #startThread(req: RunRequest, hooks: RunHooks): RunHandle {
    const { onStarted, onDone } = hooks;
    if (onStarted === undefined) return this.#modules.start(req, onDone ?? noop);
    return this.#modules.start(req, (r) => {
      try {
        onStarted({ pid: null, startedAt: r.startedAt });
      } catch (err) {
        this.#log.error({ err, runId: req.runId }, 'executor: onStarted hook threw');
      }
      onDone?.(r);
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
    await Promise.all([...this.#hosts].map((h) => h.close()));
    // Every run's cgroup is gone with its run; this process's (empty) owner group goes too.
    removeOwnGroups();
  }

  /** The host with the fewest runs; a new one while fewer than `hosts` run. */
  #host(): RunHost {
    let best: RunHost | null = null;
    for (const h of this.#hosts) if (best === null || h.runs.size < best.runs.size) best = h;
    if (best !== null && (best.runs.size === 0 || this.#hosts.size >= this.#opts.hosts)) return best;
    const host = new RunHost(
      this.#opts.hostFile,
      { owner: schedulerOwnerToken(), containment: containment() },
      (h, why, held) => this.#hostGone(h, why, held),
    );
    this.#hosts.add(host);
    return host;
  }

  /**
   * A host is gone with runs in it. Spawned ones: their process group (detached, it outlives the
   * host) and their cgroup are killed — nothing is left unowned — and the run fails saying why.
   * Not yet spawned: handed once to a fresh host.
   */
  #hostGone(host: RunHost, why: string, held: HostRun[]): void {
    this.#hosts.delete(host);
    if (held.length === 0) return;
    if (!this.#closing) this.#log.error({ why, runs: held.length }, 'executor: a run host failed; starting a fresh one');
    const orphans: string[] = [];
    for (const run of held) {
      if (run.pid !== null) {
        try {
          process.kill(-run.pid, 'SIGKILL');
        } catch {
          // already gone
        }
        orphans.push(run.request.runId);
        run.onDone(endedEarly('failed', `the executor's run host failed: ${why}`));
      } else if (!this.#closing && !this.#resubmitted.has(run)) {
        this.#resubmitted.add(run);
        this.#log.warn({ runId: run.request.runId, why }, 'executor: resubmitting a run whose host failed before it started');
        this.#host().submit(run);
      } else {
        const cancelled = run.cancel ? cancelCause(run.cancel) : null;
        run.onDone(endedEarly(cancelled?.status ?? 'failed', cancelled?.error ?? `the executor's run host failed before the run started: ${why}`));
      }
    }
    if (orphans.length > 0) void killRunGroups(orphans); // their cgroups, whose owner host is gone
  }
}
