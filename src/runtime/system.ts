/**
 * The ActorSystem: spawns actors (main thread or worker thread) under one root supervisor and its
 * nested groups, publishes runtime events, injects faults (crash-injection.ts) and tells a
 * VirtualClock when all mailboxes are quiet. What it is asked to spawn, and the checks of it, are
 * spawn-spec.ts. Everything lives on the instance: two systems in one process do not share anything.
 */
import type { Observable } from 'rxjs';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import type { Logger } from '../model';
import { ActorCell } from './actor-cell';
import type { BackoffOptions } from './backoff';
import { VirtualClock, type Clock } from './clock';
import { CrashInjector, type InjectedFailure } from './crash-injection';
import { EventBus } from './event-bus';
import { MainIncarnation, abandonOnAbort, loadFactory, type Incarnation } from './incarnation';
import { checkPolicy, checkSpawnCommon, type GroupRef, type GroupSpec, type LogicSpawnSpec, type SpawnCommon, type SpawnSpec, type TreeNode } from './spawn-spec';
import { Supervisor, type ChildSpec, type ExitReason, type Intensity, type SupervisorEvent } from './supervisor';
import { ThreadLauncher } from './thread-host';
import { describeError, type ActorContext, type ActorFactory, type ActorRef, type Handlers, type HandlersOf, type PeerRef, type RuntimeEvent } from './types';

export type { GroupRef, GroupSpec, LogicSpawnSpec, SpawnCommon, SpawnSpec, TreeNode } from './spawn-spec';

/** Options of {@link ActorSystem}. */
export interface ActorSystemOptions {
  clock: Clock;
  /** @default silent */
  logger?: Logger;
  /** Root supervisor's restart intensity. Exceeded: every actor stops and `system.failed` is published. @default { maxRestarts: 5, periodMs: 10000 } */
  intensity?: Partial<Intensity>;
  /** Restart backoff of the root supervisor. @default none (restart at once) */
  backoff?: Partial<BackoffOptions>;
  /** Default ask timeout. @default 30000 */
  askTimeoutMs?: number;
  /**
   * Default start deadline of an actor, real time (SpawnCommon.startTimeoutMs): a start still
   * running after it is ended — a thread's worker terminated, a main-thread factory abandoned —
   * and counts as a failed start. @default 120000
   */
  startTimeoutMs?: number;
  /** Source of backoff jitter. @default Math.random */
  random?: () => number;
  /** Faults injected into every actor's handlers, whatever its placement (crash-injection.ts). @default RAE_SCHED_INJECT_CRASH */
  injectCrash?: string;
  /**
   * False turns off what supervision costs per message — hang watchdogs (every `hangAfterMs`
   * ignored), mailbox bounds (`mailboxSize`, `stashSize` never refuse) and the fault-injection
   * check — so that a bench can measure that cost against the same run with them on (A/B). Crashes
   * are still supervised. Never for production. @default true
   */
  perMessageSupervision?: boolean;
}

interface Group {
  name: string;
  parent: Group | null;
  members: ChildSpec[];
  current: Supervisor | null;
  spec: GroupSpec;
}

/** Default start deadline (ActorSystemOptions.startTimeoutMs): generous; slow starts set their own. */
const DEFAULT_START_TIMEOUT_MS = 120_000;

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * @example
 * const system = new ActorSystem({ clock: new SystemClock(), logger });
 * const parserLogic = actorModule<typeof import('../actors/parser/actor')>(require.resolve('../actors/parser/actor')).logic('createParserHandlers');
 * const parser = system.spawn({ name: 'parser', logic: parserLogic, placement: 'thread' });
 * const fires = await parser.ask('next', { schedule, after: Date.now(), count: 3 });
 * await system.stop();
 */
export class ActorSystem {
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #bus: EventBus<RuntimeEvent>;
  readonly #root: Supervisor;
  readonly #cells = new Map<string, ActorCell<Handlers>>();
  readonly #lastExit = new Map<string, string>();
  readonly #launchers = new Map<string, ThreadLauncher>();
  readonly #askTimeoutMs: number;
  readonly #startTimeoutMs: number;
  readonly #random: (() => number) | undefined;
  readonly #injector: CrashInjector | null;
  readonly #perMessage: boolean;
  readonly #groups = new Map<string, Group>();
  /** Ids of the root's children, in start order. */
  readonly #rootMembers: string[] = [];
  /** Actors and groups that ended for good (never started again by a group restart). */
  readonly #gone = new Set<string>();
  readonly #everStarted = new Set<string>();
  #stopped = false;
  /** Runtime events: actor.started / crashed / restarted / failed / stopped, mailbox.refused, system.failed. */
  readonly events$: Observable<RuntimeEvent>;

  constructor(opts: ActorSystemOptions) {
    this.#clock = opts.clock;
    this.#logger = opts.logger ?? silent;
    this.#askTimeoutMs = opts.askTimeoutMs ?? 30_000;
    this.#random = opts.random;
    this.#perMessage = opts.perMessageSupervision !== false;
    this.#injector = this.#perMessage ? new CrashInjector(opts.injectCrash) : null;
    this.#startTimeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    if (!(this.#startTimeoutMs > 0)) throw new ValidationError(`startTimeoutMs must be > 0, got ${this.#startTimeoutMs}`, 'startTimeoutMs');
    if (!(this.#askTimeoutMs > 0)) throw new ValidationError(`askTimeoutMs must be > 0, got ${this.#askTimeoutMs}`, 'askTimeoutMs');
    this.#bus = new EventBus<RuntimeEvent>({
      onSubscriberError: (err) => this.#logger.error({ err: describeError(err) }, 'runtime event subscriber threw'),
    });
    this.events$ = this.#bus.events$;
    this.#root = new Supervisor([], {
      name: 'root', clock: opts.clock, strategy: 'one_for_one',
      intensity: { maxRestarts: 5, periodMs: 10_000, ...opts.intensity },
      backoff: opts.backoff, random: opts.random,
      onEvent: (e) => this.#onSupervisorEvent(e, null),
    });
    void this.#root.start();
    void this.#root.exited.then((r) => this.#onRootExit(r));
  }

  /**
   * Spawns an actor and returns its stable ref. From a `logic` module reference it runs where
   * `placement` says (a thread actor: its own Worker running the generic entry; the main side keeps
   * the mailbox, a dead worker fails its in-flight call with ActorDeadError at once and is
   * restarted with the same `init`). From a `factory` function it runs on the main thread.
   */
  spawn<F extends ActorFactory<never, Handlers, never>>(spec: LogicSpawnSpec<F>): ActorRef<HandlersOf<F>>;
  spawn<H extends Handlers>(spec: SpawnSpec<H>): ActorRef<H>;
  spawn(spec: SpawnSpec<Handlers> | LogicSpawnSpec<ActorFactory<unknown>>): ActorRef<Handlers> {
    const policy = checkPolicy(spec);
    const peersOf = (): Record<string, PeerRef<Handlers>> => {
      const p = typeof spec.peers === 'function' ? spec.peers() : spec.peers ?? {};
      return p as Record<string, PeerRef<Handlers>>;
    };
    // The cell is made below (#spawn); facts published before it exists cannot happen (no start yet).
    const publish = (facts: unknown): void => this.#cells.get(spec.name)?.setFacts(facts);
    const ctx = (): ActorContext => ({ name: spec.name, peers: peersOf(), clock: this.#clock, publish });
    if ('factory' in spec) {
      if (typeof spec.factory !== 'function') throw new ValidationError(`actor '${spec.name}': factory must be a function`, 'factory');
      const factory = spec.factory as unknown as ActorFactory<unknown>;
      return this.#spawn(spec, (signal) => abandonOnAbort(MainIncarnation.start(spec.name, factory, spec.init, ctx(), policy), signal));
    }
    const { logic } = spec;
    if (typeof logic?.module !== 'string' || !logic.module.startsWith('/') || typeof logic.export !== 'string') {
      throw new ValidationError(`actor '${spec.name}': logic must name an absolute module path and an export, got ${JSON.stringify(logic)}`, 'logic');
    }
    const placement = spec.placement ?? 'main';
    if (placement === 'main') {
      return this.#spawn(spec, (signal) => abandonOnAbort((async () => MainIncarnation.start(spec.name, loadFactory(spec.name, logic), spec.init, ctx(), policy))(), signal));
    }
    if (placement !== 'thread') throw new ValidationError(`actor '${spec.name}': placement must be 'main' or 'thread', got ${String(placement)}`, 'placement');
    const launcher = new ThreadLauncher({
      name: spec.name, logic, init: spec.init, peers: peersOf, resourceLimits: spec.resourceLimits, onUnexpectedError: policy,
      publish, ...(this.#clock instanceof VirtualClock ? { virtualClock: this.#clock } : {}),
    }, spec.standby === true);
    const ref = this.#spawn(spec, (signal) => launcher.start(signal));
    this.#launchers.set(spec.name, launcher);
    return ref;
  }

  /**
   * Crashes actor `name`'s current incarnation now, as a real fault would (a thread actor's worker
   * is terminated): its in-flight message fails with ActorDeadError and its supervisor takes over.
   * For fault-injection tests, benches and chaos drivers. Resolves false if it was not running.
   */
  async fault(name: string, reason?: Error): Promise<boolean> {
    const cell = this.#cells.get(name);
    if (cell === undefined) throw new NotFoundError(`no actor named '${name}'`);
    return cell.fault(reason);
  }

  /**
   * A nested supervisor (OTP): actors spawned with `group: ref` (and groups made with `parent:
   * ref`) are its children, in spawn order, restarted by its strategy within its intensity. Past
   * its intensity it stops its children in reverse order and fails: its own supervisor (its
   * parent, or the root) then restarts the whole group — every member from its init — or gives
   * up in turn. Actor refs stay stable across group restarts. A member that ended for good
   * (temporary, transient that exited normally, failed first start) is not started again.
   */
  group(spec: GroupSpec): GroupRef {
    if (typeof spec.name !== 'string' || spec.name === '') throw new ValidationError('group name must be a non-empty string', 'name');
    if (this.#cells.has(spec.name) || this.#groups.has(spec.name)) throw new ConflictError(`an actor or group named '${spec.name}' already exists`);
    const parent = spec.parent === undefined ? null : this.#groupOf(spec.parent);
    const g: Group = { name: spec.name, parent, members: [], current: null, spec };
    this.#groups.set(spec.name, g);
    this.#addTo(parent, {
      id: g.name, restart: 'permanent', shutdownMs: Infinity,
      start: async (signal) => {
        const live = g.members.filter((m) => !this.#gone.has(m.id));
        const sup = new Supervisor(live, {
          name: g.name, clock: this.#clock, strategy: spec.strategy, intensity: spec.intensity, backoff: spec.backoff,
          random: this.#random, onEvent: (e) => this.#onSupervisorEvent(e, g),
        });
        g.current = sup;
        // A stop of the parent while the group starts: the group stops, aborting its member's start.
        const onAbort = (): void => void sup.stop();
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          await sup.start();
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
        return sup;
      },
    }, (err) => this.#logger.error({ group: g.name, err: describeError(err) }, 'supervisor group failed to start'));
    return { name: g.name };
  }

  /** Every group and actor as a tree (start order), for diagnostics and tests. */
  tree(): TreeNode {
    const node = (id: string): TreeNode => {
      const g = this.#groups.get(id);
      if (g === undefined) {
        const st = this.#cells.get(id)?.stats();
        return { id, kind: 'actor', running: st?.alive ?? false, restarts: st?.restarts ?? 0 };
      }
      return { id, kind: 'group', strategy: g.spec.strategy, children: g.members.filter((m) => !this.#gone.has(m.id)).map((m) => node(m.id)) };
    };
    return { id: 'root', kind: 'group', strategy: 'one_for_one', children: this.#rootMembers.filter((id) => !this.#gone.has(id)).map(node) };
  }

  /**
   * Resolves once no actor has a message queued or in flight and no actor is starting. Actors
   * waiting out a restart backoff do not count (that wait is on the clock). Register it with
   * `virtualClock.addSettler(() => system.quiescent())`.
   */
  async quiescent(): Promise<void> {
    for (;;) {
      // A supervisor restarting children (bystanders stopping, members starting): poll, briefly.
      if (this.#restarting()) {
        await new Promise<void>((r) => setTimeout(r, 2));
        continue;
      }
      const busy = [...this.#cells.values()].filter((c) => c.busy);
      if (busy.length === 0) {
        // One more turn: a finishing handler may have just sent another message.
        await new Promise<void>((r) => setImmediate(r));
        if ([...this.#cells.values()].some((c) => c.busy)) continue;
        // Thread actors with peers or timers may be working without a message queued here
        // (a timer that fired in the worker, a tell on its way): each must say it is quiet.
        const quiet = await Promise.all([...this.#cells.values()].map((c) => c.quiet()));
        if (quiet.every(Boolean) && ![...this.#cells.values()].some((c) => c.busy)) return;
        continue;
      }
      await Promise.race(busy.map((c) => c.changed()));
    }
  }

  /**
   * True while an actor has a message queued or in flight, or a supervisor restarts children:
   * the synchronous check a VirtualClock makes before each timer (`addSettler`'s `busy`), so
   * virtual time never passes an ask's deadline while the work asked for is under way.
   */
  busy(): boolean {
    if (this.#restarting()) return true;
    for (const c of this.#cells.values()) if (c.busy) return true;
    return false;
  }

  #restarting(): boolean {
    return this.#root.restarting || [...this.#groups.values()].some((g) => g.current?.restarting === true);
  }

  /**
   * Fault injection: the next `times` messages `type` of actor `name` throw a plain Error (a bug),
   * hang or run late (`how`), on the main thread or inside its worker alike, across its restarts.
   * @internal for tests
   */
  inject(name: string, type: string, times = 1, how: InjectedFailure = 'throw'): void {
    if (this.#injector === null) throw new ValidationError('fault injection is off (perMessageSupervision: false)', 'perMessageSupervision');
    this.#injector.arm(name, type, times, how);
  }

  /** Stops every actor in reverse start order (each within its shutdownMs). Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#root.stop();
    for (const c of this.#cells.values()) c.markStopped();
    await Promise.all([...this.#launchers.values()].map((l) => l.dispose()));
    this.#launchers.clear();
    this.#bus.complete();
  }

  /** Root supervisor's view of its children. @internal for diagnostics and tests. */
  children(): Array<{ id: string; running: boolean; restarts: number }> {
    return [...this.#cells.values()].map((c) => {
      const st = c.stats();
      return { id: c.name, running: st.alive, restarts: st.restarts };
    });
  }

  #groupOf(ref: GroupRef): Group {
    const g = this.#groups.get(ref.name);
    if (g === undefined) throw new NotFoundError(`no supervisor group named '${ref.name}'`);
    return g;
  }

  /** Adds a child to a group (or the root): to its spec list, and to its running supervisor. */
  #addTo(g: Group | null, spec: ChildSpec, onFail: (err: unknown) => void): void {
    if (g === null) {
      this.#rootMembers.push(spec.id);
      this.#root.addChild(spec).catch(onFail);
      return;
    }
    g.members.push(spec);
    // Not started yet: its start includes the new member. Running: add it now.
    g.current?.addChild(spec).catch((err: unknown) => {
      g.members.splice(g.members.indexOf(spec), 1);
      onFail(err);
    });
  }

  /** Actor or group `id` (a child of `g`) ended for good: so do its members, in reverse order. */
  #final(id: string, why: string): void {
    const g = this.#groups.get(id);
    if (g !== undefined) {
      for (const m of [...g.members].reverse()) if (!this.#gone.has(m.id)) this.#final(m.id, why);
      this.#gone.add(id);
      return;
    }
    this.#gone.add(id);
    this.#cells.get(id)?.markStopped();
    this.#cells.delete(id);
    void this.#launchers.get(id)?.dispose();
    this.#launchers.delete(id);
    const at = new Date(this.#clock.now()).toISOString();
    // One line per actor that ends for good, so a log shows the order of a stop (reverse start order).
    this.#logger.info({ actor: id, why }, 'actor stopped');
    if (why === 'shutdown') this.#bus.publish({ type: 'actor.stopped', at, actor: id });
    else if (why === 'escalated' || why === 'start_failed' || this.#lastExit.get(id) !== 'exited normally') {
      this.#bus.publish({ type: 'actor.failed', at, actor: id, reason: this.#lastExit.get(id) ?? why });
    } else {
      this.#bus.publish({ type: 'actor.stopped', at, actor: id });
    }
    this.#lastExit.delete(id);
  }

  #spawn(spec: SpawnCommon, start: (signal: AbortSignal) => Promise<Incarnation>): ActorRef<Handlers> {
    const bounds = checkSpawnCommon(spec);
    if (this.#stopped) throw new ValidationError(`actor system is stopped; cannot spawn '${spec.name}'`, 'name');
    if (this.#cells.has(spec.name) || this.#groups.has(spec.name)) throw new ConflictError(`an actor named '${spec.name}' already exists`);
    const cell = new ActorCell<Handlers>({
      name: spec.name, clock: this.#clock, logger: this.#logger, ...bounds,
      askTimeoutMs: this.#askTimeoutMs, publish: (e) => this.#bus.publish(e),
      unbounded: new Set(spec.unbounded ?? []),
      queries: new Set(spec.queries ?? []),
      hangAfterMs: this.#perMessage ? bounds.hangAfterMs : () => Infinity,
      startTimeoutMs: bounds.startTimeoutMs ?? this.#startTimeoutMs,
      injector: this.#injector, bounded: this.#perMessage,
    });
    this.#cells.set(spec.name, cell);
    const group = spec.group === undefined ? null : this.#groupOf(spec.group);
    this.#addTo(group, { id: spec.name, start: cell.childStart(start), restart: spec.restart, shutdownMs: spec.shutdownMs }, (err) => {
      // As OTP's start_child: a first start that fails is not retried.
      this.#logger.error({ actor: spec.name, err: describeError(err) }, 'actor failed to start');
    });
    return cell;
  }

  #onSupervisorEvent(e: SupervisorEvent, from: Group | null): void {
    const at = new Date(this.#clock.now()).toISOString();
    if (e.type === 'supervisor.escalated') {
      if (from !== null) this.#logger.error({ group: from.name, reason: e.reason }, 'supervisor group exceeded its restart intensity');
      return;
    }
    if (this.#groups.has(e.id)) {
      this.#onGroupEvent(e, from);
      return;
    }
    switch (e.type) {
      case 'child.started': {
        // A group restarted as a whole starts its members afresh: for them it is a restart too.
        const again = this.#everStarted.has(e.id);
        this.#everStarted.add(e.id);
        if (e.restart || again) {
          const reason = this.#lastExit.get(e.id) ?? 'restart';
          this.#bus.publish({ type: 'actor.restarted', at, actor: e.id, reason });
          this.#logger.info({ actor: e.id, reason }, 'actor restarted');
        } else {
          this.#bus.publish({ type: 'actor.started', at, actor: e.id });
        }
        return;
      }
      case 'child.exited': {
        const reason = e.reason.normal ? 'exited normally' : describeError(e.reason.error);
        this.#lastExit.set(e.id, reason);
        if (!e.reason.normal) {
          this.#bus.publish({ type: 'actor.crashed', at, actor: e.id, reason });
          this.#logger.warn({ actor: e.id, reason }, 'actor crashed');
        }
        return;
      }
      case 'child.start_failed':
        this.#lastExit.set(e.id, `start failed: ${describeError(e.error)}`);
        return;
      case 'child.terminated':
        // In a group, a stop for the group's restart (or give-up) is not the end: the group's own
        // supervisor decides (#onGroupEvent). An exit for good (temporary, transient) is.
        if (from !== null && (e.why === 'shutdown' || e.why === 'escalated')) {
          this.#logger.debug({ actor: e.id, group: from.name, why: e.why }, 'actor stopped with its group');
          return;
        }
        this.#final(e.id, e.why);
        return;
      default:
        return;
    }
  }

  #onGroupEvent(e: SupervisorEvent, from: Group | null): void {
    switch (e.type) {
      case 'child.exited':
        if (!e.reason.normal) this.#logger.warn({ group: e.id, reason: describeError(e.reason.error) }, 'supervisor group gave up; its supervisor takes over');
        return;
      case 'child.started':
        if (e.restart) this.#logger.info({ group: e.id }, 'supervisor group restarted');
        return;
      case 'child.terminated':
        // Ends for good only when its own supervisor does not restart it (see the actor case).
        if (from !== null && (e.why === 'shutdown' || e.why === 'escalated')) return;
        this.#final(e.id, e.why);
        return;
      default:
        return;
    }
  }

  #onRootExit(r: ExitReason): void {
    if (r.normal) return;
    this.#stopped = true;
    const reason = describeError(r.error);
    this.#logger.error({ reason }, 'actor system failed: root supervisor gave up');
    this.#bus.publish({ type: 'system.failed', at: new Date(this.#clock.now()).toISOString(), reason });
  }
}
