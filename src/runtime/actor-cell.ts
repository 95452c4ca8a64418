/**
 * The stable side of an actor: its name, bounded mailbox and counters, which outlive every
 * incarnation. The mailbox is an RxJS Subject drained by `mergeMap` with the actor's concurrency
 * (1 by default: one message at a time, as `concatMap`) —
 * with each message isolated by `defer(...).pipe(catchError(...))`, so a failing message never
 * tears the pipeline down (a Subject that saw `error()` is dead for good).
 *
 * A mailbox whose handlers answer without real I/O would otherwise be drained message after
 * message in microtasks, never letting the event loop turn; so before each message the cell asks
 * the thread's time slice (slice.ts) and, past its budget, waits for the next macrotask first. The
 * message keeps its place (the mailbox slot is held while it waits): order is unchanged.
 *
 * Queries (SpawnCommon.queries) skip the line, but never the messages before them: a query runs
 * as soon as every other message received before it has finished (so it sees all their effects —
 * happens-before), beside other queries and beside the messages received after it, which do not
 * wait for it. A query that waits on a slow peer holds back neither the mailbox nor other queries.
 * @internal
 */
import { Subject, mergeMap, defer, catchError, EMPTY } from 'rxjs';
import { ActorStoppedError, AskTimeoutError, MailboxFullError } from '../errors';
import type { Logger } from '../model';
import type { Clock, TimerHandle } from './clock';
import type { CrashInjector } from './crash-injection';
import { HangWatch, type Watched } from './hang-watch';
import { deferred, type Deferred, type Incarnation } from './incarnation';
import type { Child } from './supervisor';
import { nextSlice, sliceDue } from './slice';
import { ActorCrash, describeError, type ActorRef, type ActorStats, type AskOptions, type Handlers, type MessageType, type PayloadOf, type RefusalReason, type Reply, type RuntimeEvent } from './types';

/** Fully-filled options of one cell. @internal */
export interface CellOptions {
  name: string;
  clock: Clock;
  logger: Logger;
  mailboxSize: number;
  stashSize: number;
  /** Messages in flight at once (1: one at a time). */
  concurrency: number;
  askTimeoutMs: number;
  publish: (e: RuntimeEvent) => void;
  /** Message types never refused for a full mailbox or stash (see SpawnCommon.unbounded). */
  unbounded: ReadonlySet<string>;
  /** Message types that run beside the mailbox once every earlier message finished (see SpawnCommon.queries). */
  queries: ReadonlySet<string>;
  /** Real-time deadline of one message of this type; past it the incarnation is crashed as hung. */
  hangAfterMs: (type: string) => number;
  /** Real-time deadline of a start (SpawnCommon.startTimeoutMs); Infinity: none. */
  startTimeoutMs: number;
  /** The system's fault injector: asked for each message as it is handed over (crash-injection.ts); null: none. */
  injector: CrashInjector | null;
  /** False: the mailbox and stash bounds never refuse (ActorSystemOptions.perMessageSupervision). */
  bounded: boolean;
}

interface Envelope {
  type: string;
  payload: unknown;
  /** null for tell. */
  reply: Deferred<unknown> | null;
  timer: TimerHandle | null;
  settled: boolean;
  /** Arrival number of a message that is not a query (queries wait for the ones before them). */
  seq?: number;
}

/** @internal */
export class ActorCell<H extends Handlers> implements ActorRef<H> {
  readonly name: string;
  readonly #o: CellOptions;
  readonly #mailbox = new Subject<Envelope>();
  #state: 'starting' | 'running' | 'restarting' | 'stopped' = 'starting';
  #current: Incarnation | null = null;
  /** Resolves when an incarnation is attached (or with null once stopped). */
  #gate = deferred<Incarnation | null>();
  #starting = false;
  #everStarted = false;
  #changed = deferred<void>();
  #queued = 0;
  #stashed = 0;
  #processed = 0;
  #failed = 0;
  #refused = 0;
  #restarts = 0;
  #facts: unknown = undefined;
  /** Messages in flight that have no hang deadline. */
  #unwatched = 0;
  /** Arrival number of the last message that is not a query. */
  #lastSeq = 0;
  /** Messages (not queries) accepted and not finished, by arrival number: ascending (insertion order). */
  readonly #unfinished = new Set<number>();
  /** Queries waiting for the messages before them to finish, in arrival order (so `after` ascends). */
  readonly #waitingQueries: Array<{ after: number; run: () => void }> = [];
  /** One timer for every message in flight with a deadline. */
  readonly #watch = new HangWatch<Incarnation>((w) => this.#onLate(w));

  constructor(o: CellOptions) {
    this.name = o.name;
    this.#o = o;
    this.#mailbox
      .pipe(mergeMap((env) => defer(() => this.#deliver(env)).pipe(catchError(() => EMPTY)), o.concurrency))
      .subscribe();
  }

  ask<K extends MessageType<H>>(type: K, payload: PayloadOf<H, K>, opts: AskOptions = {}): Promise<Reply<H, K>> {
    const reply = deferred<unknown>();
    const env: Envelope = { type, payload, reply, timer: null, settled: false };
    if (!this.#accept(env)) return reply.promise as Promise<Reply<H, K>>;
    const ms = opts.timeoutMs ?? this.#o.askTimeoutMs;
    if (Number.isFinite(ms)) {
      env.timer = this.#o.clock.setTimeout(() => {
        env.timer = null;
        this.#settle(env, new AskTimeoutError(`ask '${type}' to actor '${this.name}' got no reply within ${ms}ms`));
      }, ms);
    }
    return reply.promise as Promise<Reply<H, K>>;
  }

  tell<K extends MessageType<H>>(type: K, payload: PayloadOf<H, K>): void {
    this.#accept({ type, payload, reply: null, timer: null, settled: false });
  }

  stats(): ActorStats {
    return {
      processed: this.#processed, failed: this.#failed, refused: this.#refused,
      queued: this.#queued, restarts: this.#restarts, alive: this.#current !== null,
    };
  }

  facts(): unknown {
    return this.#facts;
  }

  /** Stores what the actor published (ActorContext.publish). @internal */
  setFacts(value: unknown): void {
    this.#facts = value;
  }

  /** The current incarnation's {@link Incarnation.quiet} (true when none). @internal */
  quiet(): Promise<boolean> {
    return this.#current?.quiet?.() ?? Promise.resolve(true);
  }

  /**
   * True while the cell has work that finishes without virtual time moving: an incarnation
   * starting, or messages queued for a live incarnation. A cell waiting out a restart backoff
   * (a clock timer) is NOT busy, or a VirtualClock settler would wait for itself.
   */
  get busy(): boolean {
    return this.#starting || (this.#queued > 0 && this.#current !== null);
  }

  /** Settles at the next change of `busy`. */
  changed(): Promise<void> {
    return this.#changed.promise;
  }

  /**
   * Wraps a start function so the cell tracks the incarnations the supervisor starts, under the
   * start deadline. `start` must end promptly once its signal aborts (a thread: worker terminated;
   * main thread: abandoned, abandonOnAbort) — on the supervisor's stop, or past the deadline (real
   * time, as the hang watchdog: a virtual clock stands still while a factory hangs).
   */
  childStart(start: (signal: AbortSignal) => Promise<Incarnation>): (signal: AbortSignal) => Promise<Child> {
    return async (stopped) => {
      this.#starting = true;
      this.#notify();
      const ac = new AbortController();
      const onStop = (): void => ac.abort(stopped.reason);
      if (stopped.aborted) onStop();
      stopped.addEventListener('abort', onStop, { once: true });
      const ms = this.#o.startTimeoutMs;
      const timer = Number.isFinite(ms) ? setTimeout(() => this.#startLate(ac, ms), ms) : null;
      try {
        let inc: Incarnation;
        try {
          inc = await start(ac.signal);
        } catch (err) {
          throw ac.signal.aborted ? ac.signal.reason : err;
        }
        this.#attach(inc);
        return { exited: inc.exited, stop: () => this.#stopIncarnation(inc), kill: () => inc.kill() };
      } finally {
        if (timer !== null) clearTimeout(timer);
        stopped.removeEventListener('abort', onStop);
        this.#starting = false;
        this.#notify();
      }
    };
  }

  /** A start past its deadline: end it; it fails (its supervisor retries a restart, with backoff). */
  #startLate(ac: AbortController, ms: number): void {
    this.#o.logger.error({ actor: this.name, afterMs: ms }, 'actor start timed out: ending it as a failed start');
    ac.abort(new ActorCrash(`start did not finish within ${ms}ms`));
  }

  /** Crashes the current incarnation (fault injection). False if none is running. @internal */
  async fault(reason?: Error): Promise<boolean> {
    const inc = this.#current;
    if (inc === null) return false;
    await inc.fault(reason);
    return true;
  }

  /** The actor is gone for good: queued messages reject with ActorStoppedError, new ones are refused. */
  markStopped(): void {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#current = null;
    this.#gate.resolve(null);
    this.#mailbox.complete();
    this.#watch.dispose();
    this.#notify();
  }

  #attach(inc: Incarnation): void {
    if (this.#everStarted) this.#restarts++;
    this.#everStarted = true;
    this.#current = inc;
    this.#state = 'running';
    this.#stashed = 0;
    this.#gate.resolve(inc);
    void inc.exited.then(() => this.#detach(inc));
    this.#notify();
  }

  /** From now on messages wait (stashed) for the next incarnation. */
  #detach(inc: Incarnation): void {
    if (this.#current !== inc) return;
    this.#current = null;
    if (this.#state === 'running') this.#state = 'restarting';
    this.#gate = deferred();
    this.#notify();
  }

  async #stopIncarnation(inc: Incarnation): Promise<void> {
    this.#detach(inc);
    await inc.stop();
  }

  #accept(env: Envelope): boolean {
    let reason: RefusalReason | null = null;
    if (this.#state === 'stopped') reason = 'stopped';
    else if (this.#o.bounded && !this.#o.unbounded.has(env.type)) {
      // Owed work (a popped slot, a finished run) passes the bound; it still counts towards it,
      // so callers from outside feel the back-pressure.
      if (this.#queued >= this.#o.mailboxSize) reason = 'full';
      else if (this.#state === 'restarting' && this.#stashed >= this.#o.stashSize) reason = 'stash_full';
    }
    if (reason !== null) {
      this.#refused++;
      this.#o.publish({ type: 'mailbox.refused', at: new Date(this.#o.clock.now()).toISOString(), actor: this.name, messageType: env.type, reason });
      const err = reason === 'stopped'
        ? new ActorStoppedError(`actor '${this.name}' is stopped; message '${env.type}' refused`)
        : new MailboxFullError(`actor '${this.name}': ${reason === 'full' ? `mailbox full (${this.#o.mailboxSize})` : `restart stash full (${this.#o.stashSize})`}; message '${env.type}' refused`);
      if (env.reply !== null) env.reply.reject(err);
      else this.#o.logger.warn({ actor: this.name, type: env.type, reason }, 'tell refused');
      return false;
    }
    if (this.#state === 'restarting') this.#stashed++;
    this.#queued++;
    this.#notify();
    if (this.#o.queries.size > 0 && this.#o.queries.has(env.type)) {
      const after = this.#lastSeq;
      const run = (): void => { void this.#deliver(env).catch(() => undefined); };
      if (this.#finishedUpTo(after)) run();
      else this.#waitingQueries.push({ after, run });
      return true;
    }
    // Numbered only where queries may wait for it: no cost per message for an actor without queries.
    if (this.#o.queries.size > 0) {
      env.seq = ++this.#lastSeq;
      this.#unfinished.add(env.seq);
    }
    this.#mailbox.next(env);
    return true;
  }

  /** True when every message (not a query) up to arrival number `seq` has finished. */
  #finishedUpTo(seq: number): boolean {
    const oldest = this.#unfinished.values().next();
    return oldest.done === true || oldest.value > seq;
  }

  /** A message finished: start the queries that waited only for it and those before it. */
  #finished(seq: number): void {
    this.#unfinished.delete(seq);
    let n = 0;
    while (n < this.#waitingQueries.length && this.#finishedUpTo(this.#waitingQueries[n]!.after)) n++;
    for (const q of this.#waitingQueries.splice(0, n)) q.run();
  }

  async #deliver(env: Envelope): Promise<void> {
    try {
      if (env.settled) return;
      if (sliceDue()) {
        await nextSlice();
        if (env.settled) return;
      }
      let inc: Incarnation | null;
      // Re-check after every wake-up: the gate may open and close again before we run.
      for (;;) {
        if (this.#state === 'stopped') { inc = null; break; }
        if (this.#current !== null) { inc = this.#current; break; }
        await this.#gate.promise;
      }
      if (env.settled) return;
      if (inc === null) {
        this.#failed++;
        this.#settle(env, new ActorStoppedError(`actor '${this.name}' stopped before message '${env.type}' was handled`));
        return;
      }
      try {
        const value = await this.#invokeWatched(inc, env.type, env.payload);
        this.#processed++;
        this.#settle(env, undefined, value);
      } catch (err) {
        this.#failed++;
        if (env.reply === null) this.#o.logger.warn({ actor: this.name, type: env.type, err: describeError(err) }, 'tell failed');
        this.#settle(env, err);
      }
    } finally {
      this.#queued--;
      if (env.seq !== undefined) this.#finished(env.seq);
      this.#notify();
    }
  }

  /**
   * Runs one message under the hang watchdog: a message still in flight past its deadline (real
   * time: a virtual clock stands still while a handler hangs) crashes the incarnation as hung —
   * a main-thread one is ended (its handler cannot be preempted; its result is dropped), a thread
   * one has its worker terminated (a busy loop too). Its asker gets ActorDeadError at once; the
   * supervisor restarts the actor and the messages behind it go to the next incarnation.
   */
  async #invokeWatched(inc: Incarnation, type: string, payload: unknown): Promise<unknown> {
    const ms = this.#o.hangAfterMs(type);
    // Nothing armed (production, benches): one property read, no call.
    const inj = this.#o.injector;
    const fault = inj !== null && inj.armed ? inj.take(this.name, type) : undefined;
    if (!Number.isFinite(ms)) {
      this.#unwatched++;
      try {
        return await inc.invoke(type, payload, fault);
      } finally {
        this.#unwatched--;
      }
    }
    const w = this.#watch.start(type, ms, inc);
    try {
      return await inc.invoke(type, payload, fault);
    } finally {
      this.#watch.end(w);
    }
  }

  /** A message past its deadline (HangWatch): crash its incarnation as hung; false to wait on. */
  #onLate(w: Watched<Incarnation>): boolean {
    // With several in flight, this one may be waiting behind a long message without a deadline
    // (a backup in the persistence thread): it is not hung while that one runs.
    if (this.#unwatched > 0) return false;
    this.#o.publish({ type: 'actor.hung', at: new Date(this.#o.clock.now()).toISOString(), actor: this.name, messageType: w.type, afterMs: w.ms });
    this.#o.logger.error({ actor: this.name, type: w.type, afterMs: w.ms }, 'actor hung: crashing it so that it restarts');
    void w.subject.fault(new ActorCrash(`hung: message '${w.type}' did not finish within ${w.ms}ms`));
    return true;
  }

  #settle(env: Envelope, err: unknown, value?: unknown): void {
    if (env.settled) return;
    env.settled = true;
    if (env.timer !== null) this.#o.clock.clearTimeout(env.timer);
    env.timer = null;
    if (env.reply === null) return;
    if (err !== undefined) env.reply.reject(err);
    else env.reply.resolve(value);
  }

  #notify(): void {
    const d = this.#changed;
    this.#changed = deferred();
    d.resolve();
  }
}
