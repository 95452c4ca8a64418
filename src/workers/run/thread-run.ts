/**
 * One run of a JS job module inside a worker thread: its output ring, its abort controller, its
 * limits (timeout; heap sampling when it has a memory cap) and the one way it settles. Every
 * outcome is a {@link RunResult}; nothing here throws.
 */
import { getHeapStatistics } from 'node:v8';
import { format } from 'node:util';
import path from 'node:path';
import {
  DEFAULT_KILL_GRACE_MS, DEFAULT_OUTPUT_LIMIT_BYTES, type RunOutcome, type RunRequest, type RunResult,
} from '../../actors/executor/types';
import { formatDuration } from '../../model/duration';
import { timeoutCause, type KillCause } from './cancel';
import { runResult } from '../../actors/executor/result';
import { errorMessage, loadError, noEntryError, stackText, type JobContext, type JobFunction } from './job-module';
import { OutputRing } from './output-ring';

/** Default period of heap sampling (memory-capped runs only). */
const SAMPLE_INTERVAL_MS = 250;

/** A request with its defaults filled, as this thread runs it (the same for every run of a job in a task). */
export interface ThreadRunSettings {
  file: string;
  timeoutMs: number | null;
  maxMemoryBytes: number | null;
  killGraceMs: number;
  outputLimitBytes: number;
  sampleIntervalMs: number;
}

/** The settings of a request (computed once per job of a task, not per run). */
export function settingsOf(req: RunRequest): ThreadRunSettings {
  const m = req.module ?? '';
  return {
    file: path.isAbsolute(m) ? m : path.resolve(req.cwd ?? process.cwd(), m),
    timeoutMs: req.limits.timeoutMs ?? null,
    maxMemoryBytes: req.limits.maxMemoryBytes ?? null,
    killGraceMs: req.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
    outputLimitBytes: req.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES,
    sampleIntervalMs: req.sampleIntervalMs ?? SAMPLE_INTERVAL_MS,
  };
}

/** Hooks of a run into its thread. */
export interface ThreadRunHooks {
  /** Loads (or reuses) the module's entry function. */
  load(file: string): Promise<JobFunction | null>;
  /**
   * The entry function when it is loaded already and known unchanged (no await, so no promise
   * and microtask per run on the way to the module's code); `undefined` sends the run to `load`.
   */
  loaded?(file: string): JobFunction | null | undefined;
  /** Whether a stuck run may be abandoned by the thread itself (shared threads) or must wait to be terminated (solo). */
  mayAbandon: boolean;
  /** The thread cannot be trusted any more (a stuck run was abandoned). */
  retire(reason: string): void;
}

/**
 * A module run in a thread. Call {@link ThreadRun.run} once; {@link ThreadRun.stop} at any time. Its
 * result goes to the `onResult` callback, once (a thread runs thousands of runs a second: no
 * promise per run for it).
 */
export class ThreadRun {
  readonly #req: RunRequest;
  readonly #set: ThreadRunSettings;
  /** Created on the first write: most runs of a busy scheduler print nothing. */
  #ring: OutputRing | null = null;
  /** Created when the module reads ctx.signal or the run is stopped: an AbortController costs more than a no-op run. */
  #controller: AbortController | null = null;
  #cause: KillCause | null = null;
  #settled = false;
  #startedAt = 0;
  #peakHeap: number | null = null;
  readonly #onResult: (r: RunResult) => void;
  #timers: NodeJS.Timeout[] | null = null;
  #hooks: ThreadRunHooks | null = null;

  constructor(req: RunRequest, onResult: (r: RunResult) => void, settings: ThreadRunSettings = settingsOf(req)) {
    this.#req = req;
    this.#set = settings;
    this.#onResult = onResult;
  }

  get runId(): string {
    return this.#req.runId;
  }

  /** Whether the run has its result (later output of its code goes to the thread's own streams). */
  get settled(): boolean {
    return this.#settled;
  }

  /** Output of the run's code. */
  write(chunk: string | Buffer): void {
    (this.#ring ??= new OutputRing(this.#set.outputLimitBytes)).write(chunk);
  }

  #signal(): AbortSignal {
    return (this.#controller ??= new AbortController()).signal;
  }

  /** Asks the run to stop: aborts its signal; the first cause decides the status. */
  stop(cause: KillCause): void {
    if (this.#cause || this.#settled) return;
    this.#cause = cause;
    (this.#controller ??= new AbortController()).abort(new Error(cause.error));
    const hooks = this.#hooks;
    if (hooks?.mayAbandon) {
      // A shared thread cannot be terminated for one run: give the module its grace, then report
      // the run and retire the thread, whose termination ends what the module left running.
      this.#later(() => {
        const grace = formatDuration(this.#set.killGraceMs);
        this.#settle(cause.status, `${cause.error}; the module did not stop within ${grace} of its abort signal`);
        hooks.retire(`a job module ignored its abort signal for ${grace}`);
      }, this.#set.killGraceMs);
    }
    // Solo: the executor terminates the thread after the grace (it can even stop a busy loop).
  }

  /** The run's code called `process.exit(code)`. */
  exited(code: number): void {
    if (code === 0) this.#settle('succeeded', null);
    else this.#settle('failed', `the job module called process.exit(${code})`, code);
  }

  /** The run's code raised an error that escaped it (uncaught, unhandled rejection). */
  fail(message: string, err: unknown): void {
    if (this.#settled) return;
    this.write(`${stackText(err)}\n`);
    this.#settle('failed', message);
  }

  /**
   * Runs the module to the end and reports what happened. Never rejects. Call it inside the
   * thread's AsyncLocalStorage context of this run: the timers made here (timeout) and the module's
   * code then charge their output to it.
   */
  run(hooks: ThreadRunHooks): void {
    this.#hooks = hooks;
    this.#startedAt = Date.now();
    const { timeoutMs, maxMemoryBytes, sampleIntervalMs } = this.#set;
    if (timeoutMs !== null) {
      this.#later(() => this.stop(timeoutCause(timeoutMs)), timeoutMs);
    }
    if (maxMemoryBytes !== null) {
      // The thread is this run's alone (solo): its heap is the run's heap.
      const sample = () => {
        this.#peakHeap = Math.max(this.#peakHeap ?? 0, getHeapStatistics().used_heap_size);
      };
      sample();
      (this.#timers ??= []).push(setInterval(sample, sampleIntervalMs));
    }
    if (this.#cause) this.#settle(this.#cause.status, this.#cause.error);
    else this.#call(hooks);
  }

  /**
   * Calls the module: at once when its entry is loaded already (no promise, await or microtask
   * per run on the way in), else after loading it. A module that returns a value (not a promise)
   * settles the run right away; a promise settles it when it settles.
   */
  #call(hooks: ThreadRunHooks): void {
    const entry = hooks.loaded?.(this.#set.file);
    if (entry === undefined) void this.#loadAndCall(hooks);
    else this.#invoke(entry);
  }

  async #loadAndCall(hooks: ThreadRunHooks): Promise<void> {
    let entry: JobFunction | null;
    try {
      entry = await hooks.load(this.#set.file);
    } catch (err) {
      return this.#settle('failed', loadError(this.#req.module ?? '', err));
    }
    this.#invoke(entry);
  }

  #invoke(entry: JobFunction | null): void {
    const req = this.#req;
    if (entry === null) return this.#settle('failed', noEntryError(req.module ?? ''));
    const signal = () => this.#signal();
    let env: JobContext['env'] | undefined;
    const ctx: JobContext = {
      jobId: req.jobId, jobName: req.jobName ?? '', runId: req.runId, attempt: req.attempt, scheduledAt: req.scheduledAt ?? null,
      // Built on first use: copying the thread's process.env for every run would cost more than a no-op run.
      get env() {
        return (env ??= {
          ...process.env, ...req.env,
          RAE_SCHED_JOB_ID: req.jobId, RAE_SCHED_RUN_ID: req.runId, RAE_SCHED_ATTEMPT: String(req.attempt),
        });
      },
      event: req.event ?? null,
      get signal() {
        return signal();
      },
      log: (...args: unknown[]) => this.write(`${format(...args)}\n`),
    };
    let value: unknown;
    let then: unknown;
    try {
      value = entry(ctx);
      // Read inside the try: a `then` getter that throws fails the run, as an await of it would.
      then = (value as PromiseLike<unknown> | null)?.then;
    } catch (err) {
      return this.#threw(err);
    }
    if (typeof then === 'function') {
      Promise.resolve(value).then((v) => this.#returned(v), (err: unknown) => this.#threw(err));
    } else {
      this.#returned(value);
    }
  }

  #returned(value: unknown): void {
    if (this.#settled) return;
    try {
      // A value that does not serialize (a cycle, a BigInt) fails the run, as a throw would.
      if (value !== undefined) this.write(`${JSON.stringify(value)}\n`);
    } catch (err) {
      return this.#threw(err);
    }
    this.#settle('succeeded', null);
  }

  #threw(err: unknown): void {
    if (this.#settled) return;
    this.write(`${stackText(err)}\n`);
    this.#settle('failed', errorMessage(err));
  }

  #later(fn: () => void, ms: number): void {
    const t = setTimeout(fn, ms);
    t.unref();
    (this.#timers ??= []).push(t);
  }

  #settle(outcome: RunOutcome, error: string | null, exitCode: number | null = null): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#timers !== null) for (const t of this.#timers) clearTimeout(t);
    this.#timers = null;
    // A cause (timeout, cancel) decides the status even if the module then finished normally.
    const status = this.#cause?.status ?? outcome;
    const finishedAt = Date.now();
    const startedAt = this.#startedAt || finishedAt;
    this.#onResult(runResult({
      status,
      exitCode: this.#cause ? null : exitCode ?? (status === 'succeeded' ? 0 : status === 'failed' ? 1 : null),
      startedAt,
      finishedAt,
      peakMemoryBytes: this.#peakHeap,
      error: this.#cause === null ? error : error?.startsWith(this.#cause.error) ? error : this.#cause.error,
      output: this.#ring?.toString() ?? '',
    }));
  }
}
