/**
 * An Erlang/OTP-style supervisor: ordered children, restart types, strategies, restart intensity
 * with escalation, Akka-style restart backoff, ordered shutdown with per-child timeouts. A
 * Supervisor is itself a {@link Child}, so trees nest.
 */
import { ActorDeadError, ActorStoppedError, ConflictError, ValidationError } from '../errors';
import { backoffDelay, backoffOptions, type BackoffOptions } from './backoff';
import { abortableStart, stopWithin } from './child-start';
import type { Clock, TimerHandle } from './clock';
import { describeError } from './types';

/** `permanent` always restarts; `transient` only after an abnormal exit; `temporary` never. */
export type RestartType = 'permanent' | 'transient' | 'temporary';
/** Which children restart when one fails. */
export type Strategy = 'one_for_one' | 'rest_for_one' | 'one_for_all';
/** How a child ended. */
export type ExitReason = { normal: true } | { normal: false; error: unknown };

/** A running child: it reports its own end through `exited` and can be asked to stop. */
export interface Child {
  /** Settles when the child ends for any reason (crash, normal exit, or after stop()). */
  readonly exited: Promise<ExitReason>;
  /** Graceful stop; the supervisor waits for it up to the child's `shutdownMs`. */
  stop(): Promise<void>;
  /** Forced stop, used once `shutdownMs` has passed. */
  kill?(): void | Promise<void>;
}

/** One child of a supervisor. */
export interface ChildSpec {
  /** Unique among the supervisor's children. */
  id: string;
  /**
   * Starts a fresh incarnation. Rejecting counts as a failure to start. `signal` aborts when the
   * supervisor is stopped (or killed) while this start is in progress: a stop wins over a start.
   * The start should then end promptly (reject); one that does not is abandoned after the child's
   * `shutdownMs`, and the child it yields later, if any, is stopped at once.
   */
  start: (signal: AbortSignal) => Promise<Child>;
  /** @default 'permanent' */
  restart?: RestartType;
  /** Grace for stop() before kill(); `Infinity` waits forever (use for nested supervisors). @default 5000 */
  shutdownMs?: number;
}

/** At most `maxRestarts` restarts within `periodMs`; one more and the supervisor gives up. */
export interface Intensity {
  /** @default 1 */
  maxRestarts: number;
  /** @default 5000 */
  periodMs: number;
}

/** What a supervisor reports while it works (for the ActorSystem, logs and tests). */
export type SupervisorEvent =
  | { type: 'child.started'; id: string; restart: boolean }
  | { type: 'child.exited'; id: string; reason: ExitReason }
  | { type: 'child.restart_scheduled'; id: string; delayMs: number }
  | { type: 'child.start_failed'; id: string; error: unknown }
  | { type: 'child.killed'; id: string }
  | { type: 'child.terminated'; id: string; why: 'exited' | 'shutdown' | 'escalated' | 'start_failed' }
  | { type: 'supervisor.escalated'; reason: string };

/** Options of {@link Supervisor}. */
export interface SupervisorOptions {
  /** Name used in messages. @default 'supervisor' */
  name?: string;
  /** Time for intensity, backoff timers and shutdown timeouts. */
  clock: Clock;
  /** @default 'one_for_one' */
  strategy?: Strategy;
  intensity?: Partial<Intensity>;
  /** @default no backoff (restart at once, as OTP) */
  backoff?: Partial<BackoffOptions>;
  /** Source of jitter in [0, 1). @default Math.random */
  random?: () => number;
  onEvent?: (e: SupervisorEvent) => void;
}

interface Entry {
  spec: Required<ChildSpec>;
  child: Child | null;
  /** Bumped on every start and every requested stop, so stale exits are ignored. */
  token: number;
  consecutive: number;
  startedAt: number;
  restarts: number;
}

type State = 'idle' | 'running' | 'stopping' | 'stopped' | 'failed';

/**
 * @example
 * const sup = new Supervisor([
 *   { id: 'store', start: startStore },
 *   { id: 'queue', start: startQueue, restart: 'transient' },
 * ], { clock, strategy: 'rest_for_one', intensity: { maxRestarts: 3, periodMs: 10_000 } });
 * await sup.start();          // store, then queue; a failing start stops the started ones
 * sup.exited.then((r) => ...) // abnormal when it gave up (after stopping all children)
 */
export class Supervisor implements Child {
  readonly name: string;
  readonly exited: Promise<ExitReason>;
  #resolveExit!: (r: ExitReason) => void;
  #entries: Entry[];
  #state: State = 'idle';
  #tail: Promise<void> = Promise.resolve();
  #timers = new Set<TimerHandle>();
  #restartTimes: number[] = [];
  #rounds = 0;
  /** The child start in progress (one at a time: operations are serial), aborted by stop()/kill(). */
  #starting: AbortController | null = null;
  /** stop() or kill() was called: no child starts any more, a start in progress is aborted. */
  #stopRequested = false;
  readonly #clock: Clock;
  readonly #strategy: Strategy;
  readonly #intensity: Intensity;
  readonly #backoff: BackoffOptions;
  readonly #random: () => number;
  readonly #emit: (e: SupervisorEvent) => void;

  constructor(children: ChildSpec[], opts: SupervisorOptions) {
    this.name = opts.name ?? 'supervisor';
    this.#clock = opts.clock;
    this.#strategy = opts.strategy ?? 'one_for_one';
    this.#intensity = { maxRestarts: 1, periodMs: 5000, ...opts.intensity };
    if (!Number.isInteger(this.#intensity.maxRestarts) || this.#intensity.maxRestarts < 0) {
      throw new ValidationError(`intensity.maxRestarts must be an integer >= 0, got ${this.#intensity.maxRestarts}`, 'intensity.maxRestarts');
    }
    if (!(this.#intensity.periodMs > 0)) {
      throw new ValidationError(`intensity.periodMs must be > 0, got ${this.#intensity.periodMs}`, 'intensity.periodMs');
    }
    this.#backoff = backoffOptions(opts.backoff);
    this.#random = opts.random ?? Math.random;
    const onEvent = opts.onEvent;
    // A faulty listener must not break supervision.
    this.#emit = (e) => { try { onEvent?.(e); } catch { /* listener's problem */ } };
    this.#entries = [];
    for (const c of children) this.#entries.push(this.#entry(c));
    this.exited = new Promise((r) => { this.#resolveExit = r; });
  }

  /** Starts the children in order. If one fails, the started ones stop in reverse and this rejects. */
  start(): Promise<void> {
    return this.#serial(async () => {
      if (this.#state !== 'idle') throw new ActorStoppedError(`supervisor '${this.name}' was already started`);
      this.#state = 'running';
      const started: Entry[] = [];
      for (const e of this.#entries) {
        try {
          await this.#startEntry(e, false);
          started.push(e);
        } catch (err) {
          if (this.#stopRequested) {
            // Stopped while starting: not a failure, a stop (reverse order, as stop() would).
            if ((this.#state as State) !== 'stopped') {
              this.#state = 'stopping';
              for (const s of started.reverse()) await this.#shutdownEntry(s, 'shutdown');
              this.#state = 'stopped';
            }
            this.#resolveExit({ normal: true });
            throw err;
          }
          this.#emit({ type: 'child.start_failed', id: e.spec.id, error: err });
          this.#state = 'stopping';
          for (const s of started.reverse()) await this.#shutdownEntry(s, 'shutdown');
          this.#state = 'failed';
          this.#resolveExit({ normal: false, error: err });
          throw err;
        }
      }
    });
  }

  /** Adds and starts a child at the end (OTP start_child). On a failed start it is not added. */
  addChild(spec: ChildSpec): Promise<void> {
    return this.#serial(async () => {
      if (this.#state !== 'running') throw new ActorStoppedError(`supervisor '${this.name}' is not running`);
      if (this.#entries.some((e) => e.spec.id === spec.id)) {
        throw new ConflictError(`supervisor '${this.name}' already has a child '${spec.id}'`);
      }
      const e = this.#entry(spec);
      this.#entries.push(e);
      try {
        await this.#startEntry(e, false);
      } catch (err) {
        this.#remove(e);
        if (this.#stopRequested) {
          // Stopped while it started: it ends as the supervisor's other children do.
          this.#emit({ type: 'child.terminated', id: spec.id, why: 'shutdown' });
          throw err;
        }
        this.#emit({ type: 'child.start_failed', id: spec.id, error: err });
        this.#emit({ type: 'child.terminated', id: spec.id, why: 'start_failed' });
        throw err;
      }
    });
  }

  /** Stops one child (with its shutdown timeout) and forgets it. */
  removeChild(id: string): Promise<void> {
    return this.#serial(async () => {
      const e = this.#entries.find((x) => x.spec.id === id);
      if (e === undefined) return;
      await this.#shutdownEntry(e, 'shutdown');
      this.#remove(e);
    });
  }

  /**
   * Stops every child in reverse start order, each within its `shutdownMs`; then `exited` is normal.
   * A stop wins over a start: a child start in progress is aborted now (not waited for in line),
   * and no child starts after this call.
   */
  stop(): Promise<void> {
    this.#abortStart();
    return this.#serial(async () => {
      if (this.#state === 'stopped' || this.#state === 'failed') return;
      this.#state = 'stopping';
      this.#cancelTimers();
      for (const e of [...this.#entries].reverse()) await this.#shutdownEntry(e, 'shutdown');
      this.#state = 'stopped';
      this.#resolveExit({ normal: true });
    });
  }

  /** Forced stop (a parent's shutdown timeout passed): kills every child now, in reverse order. */
  async kill(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'failed') return;
    this.#abortStart();
    this.#state = 'stopped';
    this.#cancelTimers();
    for (const e of [...this.#entries].reverse()) {
      const c = e.child;
      e.child = null;
      e.token++;
      try { await c?.kill?.(); } catch { /* already dead */ }
      this.#emit({ type: 'child.terminated', id: e.spec.id, why: 'shutdown' });
    }
    this.#resolveExit({ normal: true });
  }

  /** The children in start order (OTP which_children). */
  children(): Array<{ id: string; running: boolean; restarts: number }> {
    return this.#entries.map((e) => ({ id: e.spec.id, running: e.child !== null, restarts: e.restarts }));
  }

  #entry(spec: ChildSpec): Entry {
    if (typeof spec.id !== 'string' || spec.id === '') throw new ValidationError('child id must be a non-empty string', 'id');
    const shutdownMs = spec.shutdownMs ?? 5000;
    if (!(shutdownMs >= 0)) throw new ValidationError(`child '${spec.id}': shutdownMs must be >= 0, got ${shutdownMs}`, 'shutdownMs');
    return {
      spec: { id: spec.id, start: spec.start, restart: spec.restart ?? 'permanent', shutdownMs },
      child: null, token: 0, consecutive: 0, startedAt: 0, restarts: 0,
    };
  }

  /** Runs supervisor operations one at a time, so exits, restarts and stops never interleave. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn);
    this.#tail = run.then(() => undefined, () => undefined);
    return run;
  }

  async #startEntry(e: Entry, isRestart: boolean): Promise<void> {
    if (this.#stopRequested) throw new ActorStoppedError(`supervisor '${this.name}' is stopping; child '${e.spec.id}' not started`);
    const ac = new AbortController();
    this.#starting = ac;
    let child: Child;
    try {
      child = await abortableStart(e.spec.start, ac, e.spec.shutdownMs, this.#clock, (c) => void this.#stopChild(e.spec.id, c, e.spec.shutdownMs));
    } finally {
      this.#starting = null;
    }
    const token = ++e.token;
    e.child = child;
    e.startedAt = this.#clock.monotonic();
    if (isRestart) e.restarts++;
    this.#emit({ type: 'child.started', id: e.spec.id, restart: isRestart });
    child.exited.then(
      (r) => void this.#serial(() => this.#round(() => this.#onExit(e, token, r))),
      (err: unknown) => void this.#serial(() => this.#round(() => this.#onExit(e, token, { normal: false, error: err }))),
    );
  }

  #abortStart(): void {
    this.#stopRequested = true;
    this.#starting?.abort(new ActorStoppedError(`supervisor '${this.name}' is stopping: start abandoned`));
  }

  async #onExit(e: Entry, token: number, reason: ExitReason): Promise<void> {
    // Exits we caused (stop, bystander restart) or of a replaced incarnation are not failures.
    if (e.token !== token || e.child === null || this.#state !== 'running') return;
    e.child = null;
    this.#emit({ type: 'child.exited', id: e.spec.id, reason });
    const { restart } = e.spec;
    if (restart === 'temporary') {
      this.#remove(e);
      this.#emit({ type: 'child.terminated', id: e.spec.id, why: 'exited' });
      return;
    }
    if (restart === 'transient' && reason.normal) {
      this.#emit({ type: 'child.terminated', id: e.spec.id, why: 'exited' });
      return;
    }
    if (this.#clock.monotonic() - e.startedAt >= this.#backoff.resetAfterMs) e.consecutive = 0;
    await this.#failed(e, reason.normal ? 'exited normally' : describeError(reason.error));
  }

  /** `e` is down and needs a restart: check intensity, stop its group, restart after backoff. */
  async #failed(e: Entry, reason: string): Promise<void> {
    if (!this.#allowRestart()) {
      await this.#escalate(`child '${e.spec.id}': ${reason}`);
      return;
    }
    const group = this.#groupOf(e);
    for (const b of [...group].reverse()) {
      if (b === e || b.child === null) continue;
      // Temporary children are never restarted, not even as bystanders: stop and forget them.
      const temporary = b.spec.restart === 'temporary';
      await this.#shutdownEntry(b, temporary ? 'shutdown' : null);
      if (temporary) this.#remove(b);
    }
    await this.#scheduleRestart(group.filter((g) => this.#entries.includes(g)), e);
  }

  async #scheduleRestart(group: Entry[], failed: Entry): Promise<void> {
    const delay = backoffDelay(failed.consecutive++, this.#backoff, this.#random);
    if (delay <= 0) return this.#restartGroup(group);
    this.#emit({ type: 'child.restart_scheduled', id: failed.spec.id, delayMs: delay });
    const h = this.#clock.setTimeout(() => {
      this.#timers.delete(h);
      void this.#serial(() => this.#round(() => this.#restartGroup(group)));
    }, delay);
    this.#timers.add(h);
  }

  async #restartGroup(group: Entry[]): Promise<void> {
    if (this.#state !== 'running') return;
    const started: Entry[] = [];
    for (const g of group) {
      // Skip children removed meanwhile, or already restarted by an overlapping group.
      if (!this.#entries.includes(g) || g.child !== null) continue;
      try {
        await this.#startEntry(g, true);
        started.push(g);
      } catch (err) {
        // Stopped meanwhile: stop() (queued behind this round) shuts every child down.
        if (this.#stopRequested) return;
        this.#emit({ type: 'child.start_failed', id: g.spec.id, error: err });
        // As OTP: undo this round and try again later; each attempt counts towards intensity.
        for (const s of started.reverse()) await this.#shutdownEntry(s, null);
        if (!this.#allowRestart()) {
          await this.#escalate(`child '${g.spec.id}' failed to restart: ${describeError(err)}`);
          return;
        }
        await this.#scheduleRestart(group, g);
        return;
      }
    }
  }

  /**
   * True while an exit is being handled or a restart round runs (not while a backoff waits on the
   * clock): the system's `quiescent()` waits for it, so a test's virtual time does not run on
   * while children are still being restarted.
   */
  get restarting(): boolean {
    return this.#rounds > 0;
  }

  async #round(fn: () => Promise<void>): Promise<void> {
    this.#rounds++;
    try {
      await fn();
    } finally {
      this.#rounds--;
    }
  }

  #allowRestart(): boolean {
    const now = this.#clock.monotonic();
    this.#restartTimes = this.#restartTimes.filter((t) => now - t < this.#intensity.periodMs);
    this.#restartTimes.push(now);
    return this.#restartTimes.length <= this.#intensity.maxRestarts;
  }

  #groupOf(e: Entry): Entry[] {
    if (this.#strategy === 'one_for_one') return [e];
    if (this.#strategy === 'one_for_all') return [...this.#entries];
    return this.#entries.slice(this.#entries.indexOf(e));
  }

  async #escalate(reason: string): Promise<void> {
    this.#state = 'stopping';
    this.#cancelTimers();
    this.#emit({ type: 'supervisor.escalated', reason });
    for (const e of [...this.#entries].reverse()) await this.#shutdownEntry(e, 'escalated');
    this.#state = 'failed';
    const { maxRestarts, periodMs } = this.#intensity;
    this.#resolveExit({
      normal: false,
      error: new ActorDeadError(`supervisor '${this.name}' gave up: more than ${maxRestarts} restart(s) in ${periodMs}ms (last: ${reason})`),
    });
  }

  /** Stops one child within its shutdownMs, then kills it. `why` null: it will be restarted. */
  async #shutdownEntry(e: Entry, why: 'shutdown' | 'escalated' | null): Promise<void> {
    const child = e.child;
    e.child = null;
    e.token++;
    if (child !== null) await this.#stopChild(e.spec.id, child, e.spec.shutdownMs);
    if (why !== null) this.#emit({ type: 'child.terminated', id: e.spec.id, why });
  }

  /** stop(), then kill() once `shutdownMs` passed. */
  #stopChild(id: string, child: Child, shutdownMs: number): Promise<void> {
    return stopWithin(child, shutdownMs, this.#clock, () => this.#emit({ type: 'child.killed', id }));
  }

  #remove(e: Entry): void {
    const i = this.#entries.indexOf(e);
    if (i >= 0) this.#entries.splice(i, 1);
  }

  #cancelTimers(): void {
    for (const h of this.#timers) this.#clock.clearTimeout(h);
    this.#timers.clear();
  }
}
