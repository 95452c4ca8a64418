/**
 * The executor's end of one run host process (src/workers/run-host.ts): the small node process
 * that spawns and supervises process runs, so that the fork of every run is paid from a small
 * process instead of the whole scheduler (docs/architecture.md "Executor"). Requests, cancels,
 * `started` and results travel over the IPC channel in batches: everything one side has for the
 * other in one event-loop turn goes as one message.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Containment } from '../../workers/run/cgroup-detect';
import { RUN_HOST_ENV, type CancelReason, type FromHostMessage, type RunRequest, type RunResult, type ToHostMessage } from './types';

/** One run handed to a host. */
export interface HostRun {
  readonly key: number;
  readonly request: RunRequest;
  /** Set once the host says the process spawned. */
  pid: number | null;
  /** A cancel asked for (re-sent if the run is handed to another host). */
  cancel: CancelReason | null;
  onStarted(pid: number, startedAt: number): void;
  onDone(result: RunResult): void;
}

/** One run host process. */
export class RunHost {
  /** Runs handed to this host and not done. */
  readonly runs = new Map<number, HostRun>();
  /** Resolves once the process is gone (after `onGone` ran). */
  readonly gone: Promise<void>;
  readonly #child: ChildProcess;
  #out: ToHostMessage[] = [];
  #flushing = false;
  #dead = false;
  #markGone!: () => void;

  /**
   * Starts the host from `file`. `onGone` is called once when the process is gone — exited,
   * killed or never started — with the runs it still held (the pool decides what becomes of them).
   */
  constructor(file: string, init: { owner: string; containment: Containment }, onGone: (host: RunHost, why: string, runs: HostRun[]) => void) {
    this.gone = new Promise((resolve) => (this.#markGone = resolve));
    const die = (why: string): void => {
      if (this.#dead) return;
      this.#dead = true;
      const held = [...this.runs.values()];
      this.runs.clear();
      onGone(this, why, held);
      this.#markGone();
    };
    // Its own process group: a Ctrl-C or SIGTERM meant for the scheduler never reaches the host,
    // so runs are stopped by the scheduler's shutdown (interrupted), not by the signal.
    this.#child = fork(file, [], {
      execArgv: [],
      serialization: 'advanced',
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, [RUN_HOST_ENV]: '1' },
    });
    this.#child.on('error', (err) => die(`the run host process failed: ${err.message}`));
    this.#child.on('exit', (code, signal) => {
      const why = `the run host process exited (${signal ?? `code ${code}`})`;
      // Results it sent just before dying may still be in the channel: take them first.
      if (!this.#child.connected) return die(why);
      const late = setTimeout(() => die(why), 500);
      this.#child.once('disconnect', () => {
        clearTimeout(late);
        setImmediate(() => die(why));
      });
    });
    this.#child.on('message', (batch: FromHostMessage[]) => this.#receive(batch));
    // Idle, the host must not keep the scheduler's process alive; runs in flight ref its channel.
    this.#child.unref();
    this.#hold();
    this.#send({ t: 'init', ...init });
  }

  /** Whether the process is gone. */
  get dead(): boolean {
    return this.#dead;
  }

  /** Hands `run` to the host (with its cancel, if one was asked for already). */
  submit(run: HostRun): void {
    this.runs.set(run.key, run);
    this.#hold();
    this.#send({ t: 'run', key: run.key, request: run.request });
    if (run.cancel) this.#send({ t: 'cancel', key: run.key, reason: run.cancel });
  }

  /** Asks the host to stop run `key`. */
  cancel(key: number, reason: CancelReason): void {
    if (this.runs.has(key)) this.#send({ t: 'cancel', key, reason });
  }

  /** Ends the host: closing the channel makes it exit; SIGKILL if it is still there after `ms`. */
  async close(ms = 2000): Promise<void> {
    if (!this.#dead) {
      this.#flush();
      try {
        this.#child.disconnect();
      } catch {
        // already disconnected
      }
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), ms);
      await this.gone;
      clearTimeout(timer);
    }
  }

  #receive(batch: FromHostMessage[]): void {
    for (const msg of batch) {
      const run = this.runs.get(msg.key);
      if (run === undefined) continue;
      if (msg.t === 'started') {
        run.pid = msg.pid;
        run.onStarted(msg.pid, msg.startedAt);
      } else {
        this.runs.delete(msg.key);
        run.onDone(msg.result);
      }
    }
    this.#hold();
  }

  /** The channel keeps the scheduler alive exactly while runs are in flight. */
  #hold(): void {
    const channel = this.#child.channel;
    if (!channel || this.#dead) return;
    if (this.runs.size > 0) channel.ref();
    else channel.unref();
  }

  #send(msg: ToHostMessage): void {
    if (this.#dead) return;
    this.#out.push(msg);
    if (!this.#flushing) {
      this.#flushing = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushing = false;
    if (this.#out.length === 0 || this.#dead || !this.#child.connected) return;
    const batch = this.#out;
    this.#out = [];
    this.#child.send(batch, (err) => {
      // A host that died under the send: its exit handler accounts for the runs.
      if (err) this.#child.kill('SIGKILL');
    });
  }
}
