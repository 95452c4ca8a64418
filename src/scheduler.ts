/**
 * `createScheduler`: builds the actor system — persistence and parser on their own worker threads,
 * queue, executor and scheduler on the main thread, the monitor on the event bus — and exposes it
 * as the {@link Scheduler} interface the Rae agent, the daemon and the CLI all use.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { filter, firstValueFrom, map, type Observable, type Subscription } from 'rxjs';
import type { BackupDocument, Health, JobPage, ListJobsOptions, Scheduler, SchedulerOptions, Stats, WhyReport } from './api';
import { ActorDeadError, NotFoundError, SchedulerError, ValidationError } from './errors';
import type { Job } from './model/job';
import { FINAL_RUN_STATUSES, type Run } from './model/run';
import type { SchedulerEvent } from './model/events';
import { VirtualClock, type TimerHandle } from './runtime/clock';
import { EventBus } from './runtime/event-bus';
import { Coalescer, type Settled } from './runtime/coalesce';
import { LATE, withDeadline } from './runtime/deadline';
import { ActorSystem } from './runtime/system';
import { ActorCrash, type ActorContext, type ActorRef, type PeerRef } from './runtime/types';
import { logPeer } from './runtime/log-peer';
import type { ParserHandlers } from './actors/parser/actor';
import type { PersistenceHandlers } from './actors/persistence/actor';
import { queueFacts, type QueueHandlers, type QueueOwner } from './actors/queue/actor';
import type { ExecutorHandlers } from './actors/executor/actor';
import { Engine, type SchedulerHandlers } from './actors/scheduler/engine';
import { buildMonitor, MONITOR_QUERIES, type LiveValues, type MonitorAnswers, type MonitorHandlers, type MonitorInit, type MonitorPeers, type MonitorProbeHandlers } from './actors/monitor/actor';
import { MONITORED_EVENTS } from './actors/monitor/monitor';
import type { TriggerHub } from './actors/triggers';
import { buildTriggers, type TriggerHandlers, type TriggerRegistryHandlers, type TriggersFacts, type TriggersInit, type TriggersPeers } from './actors/triggers/actor';
import type { TriggerSpec } from './model/job';
import { SchedulerHealth } from './scheduler-health';
import {
  ENGINE_GROUP, executorLogic, hangAfter, monitorLogic, OWED, parserLogic, persistenceLogic, queueLogic, RestartOrder, triggersLogic, WORKERS_GROUP,
} from './scheduler-tree';
import { iso } from './actors/scheduler/runs';
import { assertMaxDepth } from './model/depth';
import { Store } from './actors/persistence/store';
import { ReadView } from './reads/read-view';
import { danglingComponent } from './reads/trigger-status';
import {
  fillOptions, MONITOR_DEADLINE_MS, NAMED_METRICS_LIMIT, NO_DEADLINE, PERSISTENCE_CONCURRENCY, PRUNE_EVERY_MS,
  STARTUP_TIMEOUT_MS, TIMER_BATCH, TRIGGERS_HEALTH_DEADLINE_MS, type Filled,
} from './scheduler-options';
import { afterStartUp, withTimeout } from './scheduler-steps';
import { EventLog } from './scheduler-log';
import type { SchedulerTestHooks } from './scheduler-hooks';

export { PLACEMENT_ENV, type InternalOptions } from './scheduler-options';
export { testHooksOf, type SchedulerTestHooks } from './scheduler-hooks';

/**
 * Starts a scheduler on `dataDir`.
 * @example
 * const s = await createScheduler({ dataDir: '/var/lib/rae' });
 * await s.addJob({ name: 'tick', schedule: 'every 30s', command: 'date >> /tmp/ticks' });
 * // ...
 * await s.shutdown({ graceMs: 5000 });
 */
export async function createScheduler(options: SchedulerOptions): Promise<Scheduler> {
  const opts = fillOptions(options);
  // Private: the store holds commands and `--env` values (the daemon creates it 0700 too).
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const s = new RaeScheduler(opts);
  try {
    await s.ready();
  } catch (err) {
    await s.shutdown({ graceMs: 0 }).catch(() => undefined);
    throw err;
  }
  return s;
}

/** @internal the Scheduler behind {@link createScheduler}. */
class RaeScheduler implements Scheduler {
  readonly #opts: Filled;
  readonly #system: ActorSystem;
  readonly #bus = new EventBus<SchedulerEvent>();
  readonly #persistence: ActorRef<PersistenceHandlers>;
  readonly #parser: ActorRef<ParserHandlers>;
  readonly #queue: ActorRef<QueueHandlers>;
  readonly #executor: ActorRef<ExecutorHandlers>;
  readonly #scheduler: ActorRef<SchedulerHandlers>;
  readonly #monitor: ActorRef<MonitorHandlers>;
  /** The current main-thread monitor incarnation's answers (called directly when its mailbox misses the deadline). */
  #monitorNow: MonitorAnswers | null = null;
  /** Bus events collected this turn, told to the monitor in one message. */
  #events: SchedulerEvent[] = [];
  #eventsLost = 0;
  readonly #triggers: ActorRef<TriggerHandlers> | null;
  /** The current main-thread trigger hub incarnation (health reads its watches between messages). */
  #hub: TriggerHub | null = null;
  /** The hub runs in a thread: health reads the facts it publishes. */
  #triggersInThread = false;
  readonly #health: SchedulerHealth;
  readonly #subs: Subscription[] = [];
  /** The log of the bus's events (run lines folded past a rate: scheduler-log.ts). */
  readonly #eventLog: EventLog;
  #queueDepth = { depth: 0, scheduled: 0, running: 0 };
  /** Why store commits fail, while they do (health shows it). */
  #storeFault: string | null = null;
  #shutdown: Promise<void> | null = null;
  #firstStart = true;
  /** The scheduler incarnation is loading the store (its messages wait for it: no hang deadline). */
  #loading = false;
  #pruneTimer: TimerHandle | null = null;
  /** The scheduler actor's current incarnation (its live facts are read beside the mailbox). */
  #engine: Engine | null = null;
  /** Reads answered from a read-only view of the store on this thread (src/reads). */
  #reads: ReadView | null = null;
  #readStore: Store | null = null;
  readonly events$: Observable<SchedulerEvent>;

  constructor(opts: Filled) {
    this.#opts = opts;
    const { clock, logger } = opts;
    this.events$ = this.#bus.events$;
    this.#system = new ActorSystem({ clock, logger, perMessageSupervision: opts.perMessageSupervision });
    if (clock instanceof VirtualClock) clock.addSettler(() => this.#system.quiescent(), () => this.#system.busy());
    // First: it must see every event, from the first start-up recovery on (and it stops last).
    // The monitor's live values, served here wherever it runs (asked right before each answer).
    const probes = {
      name: 'probes',
      ask: async (type: 'live' | 'names', p: { jobs?: boolean }) => (type === 'names'
        // Metric labels use job names; with very many jobs, those not touched since start show their id.
        ? this.#reads?.jobNames(NAMED_METRICS_LIMIT) ?? []
        : this.#live(p.jobs === true)),
      tell: () => undefined,
    } as unknown as PeerRef<MonitorProbeHandlers>;
    // Crashable like the others; a restart rebuilds from the store, the supervisor and the probes
    // (uptime from the scheduler's start, not the incarnation's).
    const monitorSpec = {
      name: 'monitor', mailboxSize: opts.mailboxSize, onUnexpectedError: 'crash', hangAfterMs: hangAfter('monitor', opts.hangAfterMs),
      // Answered after every earlier `observe`, side by side (MONITOR_QUERIES).
      queries: MONITOR_QUERIES,
      init: { processMetrics: opts.processMetrics, startedAt: clock.now() }, peers: { probes },
    } as const;
    this.#monitor = opts.placement.monitor === 'thread'
      ? this.#system.spawn({ ...monitorSpec, logic: monitorLogic, placement: 'thread' })
      // On the main thread its answers are also called directly when its mailbox is late.
      : this.#system.spawn<MonitorHandlers>({ ...monitorSpec,
        factory: (init: MonitorInit, ctx: ActorContext<MonitorPeers>) => buildMonitor(init, ctx, (a) => { this.#monitorNow = a; }) });
    // Only what the monitor counts (MONITORED_EVENTS: not `run.queued`, a third of each run's events).
    this.#subs.push(this.#bus.events$.subscribe((e) => { if (MONITORED_EVENTS.has(e.type)) this.#toMonitor(e); }));
    // Start order is dependency order; the system stops them in reverse.
    this.#persistence = this.#system.spawn({
      name: 'persistence', logic: persistenceLogic, placement: 'thread', init: { dataDir: opts.dataDir },
      mailboxSize: opts.mailboxSize, hangAfterMs: hangAfter('persistence', opts.hangAfterMs),
      // Let it crash here too (docs/architecture.md "Restarts", "Which errors crash"): a failed
      // write is a PersistenceError (data: the caller gets it, the committer retries); anything
      // else (a bug) ends the thread, the restart reopens the store, and the commits in flight fail
      // ACTOR_DEAD, which the committer retries like any failed write.
      onUnexpectedError: 'crash',
      // Opening the store may migrate it whole (a schema bump over 1M jobs): the start-up bound of
      // ready(), not the runtime's default start deadline. Every other start is short.
      startTimeoutMs: STARTUP_TIMEOUT_MS,
      // Several messages in flight: commits from the scheduler, concurrent adds and reads overlap,
      // and lmdb writes the transactions queued in one turn with one flush.
      concurrency: PERSISTENCE_CONCURRENCY,
      // (Daemon) a spare worker, booted with the module loaded: a restart only opens the store (W6).
      standby: opts.standby,
    });
    // A bad schedule is a ValidationError (data); any other error is a parser bug: crash, restart
    // with an empty cache of compiled schedules (its only state).
    this.#parser = this.#system.spawn({ name: 'parser', logic: parserLogic, placement: 'thread', mailboxSize: opts.mailboxSize,
      hangAfterMs: hangAfter('parser', opts.hangAfterMs), standby: opts.standby, onUnexpectedError: 'crash' });
    const self = (): ActorRef<SchedulerHandlers> => this.#scheduler;
    const log = logPeer(logger);
    // Watches are native and async; their fires enter the scheduler's mailbox like any message. The
    // registry of wanted triggers outlives the actor's incarnations (and threads): a restart
    // re-subscribes from it.
    const wanted = new Map<string, TriggerSpec[]>();
    const registry = {
      name: 'registry',
      tell: (type: keyof TriggerRegistryHandlers, p: { jobId?: string; triggers?: TriggerSpec[] }) => {
        if (type === 'set') wanted.set(p.jobId as string, p.triggers as TriggerSpec[]);
        else if (type === 'delete') wanted.delete(p.jobId as string);
        else if (type === 'clear') wanted.clear();
      },
      ask: async (type: keyof TriggerRegistryHandlers) => (type === 'all' ? [...wanted] : undefined),
    } as unknown as PeerRef<TriggerRegistryHandlers>;
    const triggersSpec = {
      name: 'triggers', mailboxSize: opts.mailboxSize, onUnexpectedError: 'crash' as const, unbounded: OWED.triggers,
      hangAfterMs: hangAfter('triggers', opts.hangAfterMs), peers: () => ({ owner: self(), registry, log }),
      init: { snapshotDir: path.join(opts.dataDir, 'watch-snapshots'), ...(opts.watchSubscribeTimeoutMs ? { subscribeTimeoutMs: opts.watchSubscribeTimeoutMs } : {}) },
    };
    // A test's stand-in subscriber is a function: it cannot cross to a thread, so it keeps the hub here.
    const triggersInThread = opts.placement.triggers === 'thread' && opts.watchSubscribe === undefined;
    this.#triggersInThread = triggersInThread;
    this.#triggers = opts.mode !== 'active' ? null : triggersInThread
      ? this.#system.spawn({ ...triggersSpec, logic: triggersLogic, placement: 'thread' })
      : this.#system.spawn<TriggerHandlers>({
        ...triggersSpec,
        factory: (init: TriggersInit, ctx: ActorContext<TriggersPeers>) => buildTriggers(init, ctx, {
          ...(opts.watchSubscribe ? { subscribe: opts.watchSubscribe } : {}),
          onHub: (hub) => { this.#hub = hub; },
        }),
      });
    // The engine's subtree (src/scheduler-tree.ts, docs/architecture.md "Restarts"): the scheduler
    // owns the state the queue and executor hold for it, so they restart with it (rest_for_one);
    // either of them alone is rebuilt from the scheduler's memory (one_for_one among them).
    const engine = this.#system.group(ENGINE_GROUP);
    this.#scheduler = this.#system.spawn<SchedulerHandlers>({ group: engine,
      name: 'scheduler', mailboxSize: opts.mailboxSize, onUnexpectedError: 'crash', unbounded: OWED.scheduler, hangAfterMs: hangAfter('scheduler', opts.hangAfterMs, () => this.#loading),
      factory: () => this.#engineHandlers(),
    });
    const workers = this.#system.group({ ...WORKERS_GROUP, parent: engine });
    // Queue, executor and scheduler: an unexpected error (a bug, not a SchedulerError) crashes the
    // actor and it restarts whole, rebuilt from the store and its peers (docs/runtime.md, "The tree").
    // What the queue says goes to the scheduler actor; the dead-man's switch follows each batch
    // the timer handed over (until the engine handled it).
    const owner = {
      name: 'scheduler',
      tell: (type: 'slotsDue' | 'clockJumped', payload: never) => {
        if (type === 'slotsDue') this.#health.handedOver((payload as { due: Array<{ jobId: string; at: number }> }).due);
        self().tell(type, payload);
      },
      ask: (type: 'slotsDue' | 'clockJumped', payload: never, o?: { timeoutMs?: number }) => self().ask(type, payload, o),
    } as unknown as PeerRef<QueueOwner>;
    this.#queue = this.#system.spawn({ group: workers,
      name: 'queue', logic: queueLogic, placement: opts.placement.queue, mailboxSize: opts.mailboxSize, onUnexpectedError: 'crash',
      unbounded: OWED.queue, hangAfterMs: hangAfter('queue', opts.hangAfterMs),
      init: { maxBatch: TIMER_BATCH }, peers: () => ({ owner, log }),
    });
    this.#executor = this.#system.spawn({ group: workers,
      name: 'executor', logic: executorLogic, placement: opts.placement.executor, mailboxSize: opts.mailboxSize, onUnexpectedError: 'crash',
      unbounded: OWED.executor, hangAfterMs: hangAfter('executor', opts.hangAfterMs),
      init: { maxConcurrent: opts.maxConcurrentJobs }, peers: () => ({ owner: self(), log }),
    });
    const eventLog = this.#eventLog = new EventLog(logger, clock);
    this.#subs.push(this.#bus.events$.subscribe((e) => eventLog.write(e)));
    const restarts = new RestartOrder();
    this.#subs.push(this.#system.events$.subscribe((e) => {
      if (e.type === 'actor.restarted' || e.type === 'actor.failed') {
        this.#bus.publish({ type: e.type, at: e.at, actor: e.actor, reason: e.reason });
        logger.warn({ actor: e.actor, reason: e.reason }, e.type);
      }
      // The daemon (and any library user) must learn that the system is gone for good.
      if (e.type === 'system.failed') this.#bus.publish({ type: 'scheduler.failed', at: e.at, reason: e.reason });
      // A queue or executor restarted alone: rebuilt from the scheduler's memory (a new queue is
      // empty; the runs of a dead executor are lost). Restarted with the scheduler (rest_for_one),
      // the new scheduler's start-up rebuilds them.
      if (e.type === 'actor.started' || e.type === 'actor.restarted') {
        const withOwner = restarts.startedAfter(e.actor, 'scheduler');
        if (e.type === 'actor.restarted' && !withOwner && e.actor === 'queue') this.#scheduler.tell('rearm', {});
        if (e.type === 'actor.restarted' && !withOwner && e.actor === 'executor') this.#scheduler.tell('executorLost', {});
      }
      // A new engine re-arms from the store: fires handed to the old one are not overdue by themselves.
      if (e.type === 'actor.restarted' && e.actor === 'scheduler') this.#health.deadMan.reset();
      // (Not on `actor.restarted`: that comes after the new incarnation has set its hub.)
      if (e.type === 'actor.crashed' && e.actor === 'triggers') this.#hub = null;
      if (e.type === 'mailbox.refused' && e.actor === 'monitor') this.#eventsLost++;
    }));
    const refs: Array<{ name: string; ref: { ask(type: 'heartbeat', p: Record<string, never>, o: { timeoutMs: number }): Promise<unknown> } }> = [
      { name: 'monitor', ref: this.#monitor }, { name: 'persistence', ref: this.#persistence }, { name: 'parser', ref: this.#parser },
      { name: 'queue', ref: this.#queue }, { name: 'executor', ref: this.#executor }, { name: 'scheduler', ref: this.#scheduler },
      ...(this.#triggers !== null ? [{ name: 'triggers', ref: this.#triggers }] : []),
    ];
    this.#health = new SchedulerHealth({
      clock, dataDir: opts.dataDir, settings: opts.health,
      children: () => this.#system.children(),
      // The ask's own deadline is far: the heartbeat's deadline is real time (Heartbeats).
      heartbeatTargets: refs.map(({ name, ref }) => ({ name, ping: () => ref.ask('heartbeat', {}, { timeoutMs: 3_600_000 }) })),
      storeFault: () => this.#storeFault,
      earliest: () => queueFacts(this.#queue).earliest,
      running: () => this.#engine?.runningWithTimeouts() ?? [],
      // On the main thread the hub is read live; from a thread, the health it last published.
      triggers: () => (this.#triggersInThread ? (this.#triggers?.facts() as TriggersFacts | undefined) ?? null : this.#hub?.health() ?? null),
      nameOf: (jobId) => this.#nameOf(jobId),
    });
    // `--after` upstreams that no longer exist: degraded (read from the engine's index, in memory).
    this.#health.extra.push({ name: 'dependencies', run: () => danglingComponent(this.#engine?.index.danglingAfter() ?? []) });
  }

  /** Collects an event; the turn's events go to the monitor in one message (never awaited). */
  #toMonitor(e: SchedulerEvent): void {
    this.#events.push(e);
    if (this.#events.length === 1) setImmediate(() => this.#flushEvents());
  }

  #flushEvents(): void {
    if (this.#events.length === 0) return;
    const events = this.#events;
    this.#events = [];
    this.#monitor.tell('observe', { events });
  }

  #nameOf(jobId: string): string | null {
    try {
      return this.#readStore?.getJob(jobId)?.name ?? null;
    } catch {
      return null;
    }
  }

  /**
   * Asks the monitor's mailbox (after the events collected so far), for at most
   * MONITOR_DEADLINE_MS of real time; past it, answers from the monitor's memory directly.
   */
  async #askMonitor<T>(ask: () => Promise<T>, direct: (m: MonitorAnswers) => Promise<T>): Promise<T> {
    this.#flushEvents();
    const asked = ask();
    asked.catch(() => undefined);
    let crashed = false;
    const r = await withDeadline(asked, MONITOR_DEADLINE_MS)
      .catch((err: unknown): typeof LATE => { crashed = err instanceof ActorDeadError; return LATE; });
    if (r !== LATE) return r;
    // A monitor in a thread has no answers here: its mailbox is its only way in. If the question
    // crashed it, its next incarnation (rebuilt from the store) answers: ask it once more.
    if (this.#monitorNow === null && crashed) return ask();
    if (this.#monitorNow === null) throw new SchedulerError('INTERNAL', 'the monitor did not answer in time');
    return direct(this.#monitorNow);
  }

  /** A fresh engine: loads jobs from the store; in active mode recovers and arms. */
  async #engineHandlers(): Promise<SchedulerHandlers> {
    const engine = new Engine({
      clock: this.#opts.clock, logger: this.#opts.logger, mode: this.#opts.mode,
      maxConcurrent: this.#opts.maxConcurrentJobs, maxQueued: this.#opts.maxQueuedJobs,
      parser: this.#parser, persistence: this.#persistence, queue: this.#queue, executor: this.#executor, bus: this.#bus,
      self: () => this.#scheduler,
      triggers: this.#triggers,
      onStoreFault: (detail) => { this.#storeFault = detail; },
      stepTimeoutMs: this.#opts.stepTimeoutMs,
    });
    const engineHandlers = engine.handlers();
    // The dead-man's switch follows each batch the timer handed over until the engine handled it.
    const handlers = {
      ...engineHandlers,
      slotsDue: async (p: { due: Array<{ jobId: string; at: number }> }) => {
        try {
          await engineHandlers.slotsDue(p);
        } finally {
          this.#health.handled(p.due);
        }
      },
    };
    this.#engine = engine;
    if (this.#firstStart) {
      // The persistence thread has opened (and, if needed, migrated) the store: open a read-only
      // view of it on this thread. Same process, so lmdb-js shares one native environment.
      this.#readStore ??= await Store.open({ dataDir: this.#opts.dataDir, readOnly: true });
      this.#reads ??= new ReadView({
        store: this.#readStore, clock: this.#opts.clock, mode: this.#opts.mode,
        maxConcurrent: this.#opts.maxConcurrentJobs, logger: this.#opts.logger,
        live: {
          runningOf: (jobId) => this.#engine?.runningOf(jobId) ?? [],
          runningCount: () => this.#engine?.runningCount ?? 0,
          jobCounts: () => this.#engine?.jobCounts() ?? { total: 0, enabled: 0, paused: 0, done: 0 },
        },
      });
      this.#monitor.tell('seedNames', { names: this.#reads.jobNames(NAMED_METRICS_LIMIT) });
      if (this.#opts.perMessageSupervision) this.#health.start();
      else this.#health.sampler.start();
    }
    // Start-up continues after the start (OTP's handle_continue): the queue and the executor start
    // after the scheduler in its group, and its start-up hands them work. Every message waits for
    // it; if it fails, the incarnation crashes. On a restart the executor and the queue were
    // restarted with the scheduler (rest_for_one): the runs the crashed incarnation had in flight
    // died with the old executor; start-up records them `interrupted` from the store and retries
    // them by policy, and kills any process of theirs still alive.
    // While it loads, messages wait for it (afterStartUp): they are not hung (scheduler-tree.ts hangAfter).
    this.#loading = true;
    const loaded = handlers.load({ start: this.#opts.mode === 'active', reboot: this.#firstStart });
    void loaded.finally(() => { if (this.#engine === engine) this.#loading = false; }).catch(() => undefined);
    this.#firstStart = false;
    loaded.catch((err: unknown) => {
      if (this.#engine !== engine) return;
      this.#opts.logger.error({ err: String(err) }, 'scheduler start-up failed');
      void this.#system.fault('scheduler', new ActorCrash(`start-up failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
    });
    return afterStartUp(handlers, loaded);
  }

  /** Resolves when the scheduler actor has loaded (and, in active mode, armed) every job. */
  async ready(): Promise<void> {
    // If an actor cannot start, say why (the ask alone would only say the scheduler stopped).
    let sub: Subscription | undefined;
    const failed = new Promise<never>((_, reject) => {
      sub = this.#system.events$.subscribe((e) => {
        if (e.type === 'actor.failed') reject(new SchedulerError('INTERNAL', `${e.actor} failed to start: ${e.reason}`));
      });
    });
    try {
      // `started` answers once start-up has been handled; its `idle` once what it recorded is durable.
      const started = await Promise.race([this.#scheduler.ask('started', {}, { timeoutMs: STARTUP_TIMEOUT_MS }), failed]);
      await Promise.race([started.idle, failed]);
      // The queue and executor start after the scheduler (its group's members): a scheduler is
      // returned once every actor serves, wherever it runs (a thread boots later than a closure).
      await Promise.race([Promise.all([
        this.#queue.ask('heartbeat', {}, { timeoutMs: STARTUP_TIMEOUT_MS }),
        this.#executor.ask('heartbeat', {}, { timeoutMs: STARTUP_TIMEOUT_MS }),
      ]), failed]);
    } finally {
      sub?.unsubscribe();
    }
    this.#refreshDepth();
    if (this.#opts.mode === 'active') this.#armPrune();
  }

  /** Retention: every hour, keep the newest `historyPerJob` runs and slots of each job. */
  #armPrune(): void {
    this.#pruneTimer = this.#opts.clock.setTimeout(() => {
      const keep = this.#opts.historyPerJob;
      this.#persistence.ask('prune', { keepRunsPerJob: keep, keepSlotsPerJob: keep }).then(
        (r) => { if (r.runs + r.slots > 0) this.#opts.logger.info(r, 'pruned old history'); },
        (err) => this.#opts.logger.error({ err: String(err) }, 'pruning history failed'),
      ).finally(() => { if (this.#shutdown === null) this.#armPrune(); });
    }, PRUNE_EVERY_MS);
  }

  /**
   * Queue depth and running runs, read from the queue's and the engine's memory on this thread,
   * not asked through their mailboxes (which a burst of fires may fill).
   */
  #refreshDepth(): void {
    const q = queueFacts(this.#queue);
    this.#queueDepth = { depth: this.#engine?.readyCount ?? 0, scheduled: q.scheduled, running: this.#engine?.runningCount ?? 0 };
  }

  /** What the monitor shows, read on this thread at the moment it asks. */
  async #live(jobs: boolean): Promise<LiveValues> {
    // A hub in a thread: its health after what it was told so far. Its facts may lag a message it
    // has not handled yet; once none is queued or in flight, every one has been handled and the
    // facts each published arrived before its reply (one ordered channel), so they are current
    // and the round trip (through this thread, busy when the scheduler is) is skipped.
    const hub = this.#triggersInThread ? this.#triggers : null;
    if (hub !== null && hub.stats().queued > 0) await hub.ask('health', {}, { timeoutMs: TRIGGERS_HEALTH_DEADLINE_MS }).catch(() => undefined);
    let components: LiveValues['components'];
    try {
      components = this.#health.health().components;
    } catch (err) {
      components = { error: err instanceof Error ? err.message : String(err) };
    }
    const live: LiveValues = { queue: this.#queueDepth, components, lostEvents: this.#eventsLost };
    if (!jobs) return live;
    const view = this.#view();
    return { ...live, jobs: await view.jobCounts(), rollup: view.rollup() };
  }

  /** The read view (open once the scheduler actor has started). */
  #view(): ReadView {
    if (this.#reads === null) throw new SchedulerError('INTERNAL', 'the scheduler has not started');
    return this.#reads;
  }

  /**
   * Fault injection and counters for tests and benches: store commits that fail, end the
   * persistence thread mid-commit or are slow; executor hand-overs that crash or are slow.
   * @internal
   */
  testHooks(): SchedulerTestHooks {
    return {
      storeFault: (fault) => this.#persistence.ask('injectFault', fault),
      executorFault: (fault) => this.#executor.ask('injectFault', fault),
      fault: (actor) => this.#system.fault(actor),
      throwIn: (actor, type, times, how) => this.#system.inject(actor, type, times, how),
      children: () => this.#system.children(),
      tree: () => this.#system.tree(),
      commitStats: () => this.#scheduler.ask('commitStats', {}),
    };
  }

  addJob(spec: Parameters<Scheduler['addJob']>[0]): Promise<Job> {
    return this.#addJob.call(spec);
  }

  /**
   * Concurrent `addJob` callers share one scheduler message and one insert transaction (group
   * commit); each resolves once its job is on disk, or rejects with its own error.
   */
  readonly #addJob = new Coalescer<unknown, Job>(async (specs) => {
    const { items } = await this.#scheduler.ask('addJobs', { specs });
    return Promise.all(items.map((it): Promise<Settled<Job>> => ('error' in it
      ? Promise.resolve({ ok: false, error: it.error })
      : it.durable.then((job) => ({ ok: true as const, value: job }), (error: unknown) => ({ ok: false as const, error })))));
  });
  removeJob(idOrName: string): Promise<void> {
    return this.#scheduler.ask('removeJob', { ref: idOrName });
  }
  async getJob(idOrName: string): Promise<Job> {
    return this.#view().getJob(idOrName);
  }
  listJobs(): Promise<Job[]>;
  listJobs(opts: ListJobsOptions): Promise<JobPage>;
  async listJobs(opts?: ListJobsOptions): Promise<Job[] | JobPage> {
    return opts === undefined ? this.#view().listJobs() : this.#view().listPage(opts);
  }
  pauseJob(idOrName: string): Promise<Job> {
    return this.#scheduler.ask('setEnabled', { ref: idOrName, enabled: false });
  }
  resumeJob(idOrName: string): Promise<Job> {
    return this.#scheduler.ask('setEnabled', { ref: idOrName, enabled: true });
  }
  runNow(idOrName: string): Promise<Run> {
    return this.#runNow.call(idOrName);
  }

  /**
   * Concurrent `runNow` callers share one scheduler message, one turn and one commit; each gets
   * its own run (or error) once that commit is durable.
   */
  readonly #runNow = new Coalescer<string, Run>(async (refs) => {
    const { items, durable } = await this.#scheduler.ask('runNowMany', { refs });
    await durable;
    return items.map((it): Settled<Run> => ('error' in it ? { ok: false, error: it.error } : { ok: true, value: it.run }));
  });
  async history(idOrName: string, opts?: { limit?: number }): Promise<Run[]> {
    return this.#view().history(idOrName, opts?.limit);
  }
  async why(idOrName: string): Promise<WhyReport> {
    return this.#view().why(idOrName);
  }

  async waitForRun(runId: string): Promise<Run> {
    // Subscribe before reading the store, so a finish between the two is not missed.
    const finished = firstValueFrom(this.#bus.on('run.finished').pipe(
      filter((e) => e.run.id === runId), map((e) => e.run)));
    finished.catch(() => undefined);
    const stored = this.#readStore?.getRun(runId) ?? await this.#persistence.ask('getRun', { id: runId });
    if (stored === null) throw new NotFoundError(`run '${runId}' not found`);
    if (FINAL_RUN_STATUSES.includes(stored.status)) return stored;
    return finished;
  }

  /**
   * Resolves once no run is running, queued, held or waiting for a retry's backoff. Asked after each
   * finish: the scheduler's mailbox handles the ask after the whole finish (its retry, its `--after`
   * dependents), so a follow-up run is always counted before the answer.
   */
  async idle(): Promise<void> {
    for (;;) {
      const finished = firstValueFrom(this.#bus.on('run.finished'));
      finished.catch(() => undefined);
      if (await this.#scheduler.ask('pendingCount', {}) === 0) return;
      await finished;
    }
  }

  async health(): Promise<Health> {
    try {
      return await this.#askMonitor(() => this.#monitor.ask('health', {}), (m) => m.health({}));
    } catch {
      // The monitor is down, or (in a thread) too busy to answer: the checks read memory only, so
      // answer without it, saying which (its own check knows a restart or a late heartbeat).
      const h = this.#health.health();
      const own = h.components.monitor;
      const monitor = own !== undefined && !own.healthy ? own : { ...own, healthy: false, detail: `the monitor did not answer within ${MONITOR_DEADLINE_MS} ms` };
      return { healthy: false, components: { ...h.components, monitor } };
    }
  }
  async stats(): Promise<Stats> {
    this.#refreshDepth();
    return this.#askMonitor(() => this.#monitor.ask('stats', {}), (m) => m.stats({}));
  }
  async metrics(): Promise<string> {
    this.#refreshDepth();
    return this.#askMonitor(() => this.#monitor.ask('metrics', {}), (m) => m.metrics({}));
  }
  backup(): Promise<BackupDocument> {
    return this.#persistence.ask('backup', { createdAt: iso(this.#opts.clock.now()) });
  }
  async restore(doc: unknown): Promise<{ jobs: number; runs: number }> {
    assertMaxDepth(doc, 'restore', 'the document');
    const running = await this.#scheduler.ask('runningCount', {});
    if (running > 0) throw new ValidationError(`restore: ${running} runs are in progress; restore into an idle scheduler`, 'restore');
    await this.#checkRestoredSchedules(doc);
    const result = await this.#persistence.ask('restore', { doc });
    // Reload every job from the restored store (a fresh engine incarnation).
    await this.#scheduler.ask('reload', {});
    // Resolve once the reload's schedule states are durable: a read right after shows each next run.
    await (await this.#scheduler.ask('started', {})).idle;
    return result;
  }

  /**
   * The store validates a backup's shape; schedules are the parser's to judge. Every job's schedule
   * and zone must parse before anything is replaced (malformed jobs are left to the store's check,
   * which names them).
   */
  async #checkRestoredSchedules(doc: unknown): Promise<void> {
    const jobs = (doc as { jobs?: unknown } | null)?.jobs;
    if (!Array.isArray(jobs)) return;
    const now = this.#opts.clock.now();
    for (const [i, job] of jobs.entries()) {
      const j = job as { schedule?: unknown; timezone?: unknown } | null;
      if (typeof j?.schedule !== 'string' || !(j.timezone === null || j.timezone === undefined || typeof j.timezone === 'string')) continue;
      try {
        await this.#parser.ask('parse', { text: j.schedule, tz: (j.timezone as string | null | undefined) ?? null, now });
      } catch (err) {
        if (err instanceof ValidationError) throw new ValidationError(`jobs[${i}].schedule: ${err.message}`, `jobs[${i}].schedule`);
        throw err;
      }
    }
  }

  /** Stops firing, lets running jobs finish within `graceMs`, then interrupts them; closes the store. */
  shutdown(opts?: { graceMs?: number }): Promise<void> {
    this.#shutdown ??= this.#doShutdown(opts?.graceMs ?? 10_000);
    return this.#shutdown;
  }

  async #doShutdown(graceMs: number): Promise<void> {
    this.#bus.publish({ type: 'scheduler.stopping', at: iso(this.#opts.clock.now()) });
    if (this.#pruneTimer !== null) this.#opts.clock.clearTimeout(this.#pruneTimer);
    // Every step has a deadline (real time); one that passes it is logged and the stop goes on, so a
    // run that never ends, or a record that cannot be written, never holds the shutdown.
    const slackMs = this.#opts.shutdownSlackMs;
    const timeoutMs = graceMs + slackMs;
    const { logger } = this.#opts;
    const late = (step: string, ms: number, more: Record<string, unknown> = {}) => () =>
      logger.error({ step, afterMs: ms, ...more }, `shutdown: ${step} did not finish within ${ms}ms; going on without it`);
    try {
      await withTimeout(this.#scheduler.ask('beginShutdown', {}, NO_DEADLINE), slackMs, late('stop firing', slackMs));
      const closed = await withTimeout(this.#executor.ask('close', { graceMs }, NO_DEADLINE).then(() => true), timeoutMs,
        () => late('the executor closing', timeoutMs, { running: (this.#engine?.runningWithTimeouts() ?? []).map((r) => r.run.id) })());
      if (closed === undefined) {
        // Hung (a handler stuck, a run whose end never comes back): crashed like any hung actor —
        // its pool and processes go with it — and the runs it held are recorded `interrupted` now
        // (retried by policy at the next start), so the drain below does not leave them behind.
        await this.#system.fault('executor', new ActorCrash(`it did not close within ${timeoutMs}ms at shutdown`));
        this.#scheduler.tell('executorLost', {});
      }
      // Messages are handled in order: once `drain` answers, every run's final status is stored.
      const drained = await withTimeout(this.#scheduler.ask('drain', {}, NO_DEADLINE), slackMs, late('drain', slackMs));
      if (drained !== undefined) await withTimeout(drained.idle, slackMs, late('the last records', slackMs));
    } finally {
      // Even when an actor is gone (a store that could not open, a failed system), every thread
      // must stop: a worker left running would keep the process alive forever.
      this.#health.stop();
      this.#flushEvents();
      for (const s of this.#subs) s.unsubscribe();
      this.#eventLog.flush();
      await this.#readStore?.close();
      // Stops every actor in reverse start order; the triggers actor unsubscribes its watches
      // within its shutdown deadline (a hung native call is abandoned, not waited for).
      await this.#system.stop();
      this.#bus.complete();
    }
  }
}
