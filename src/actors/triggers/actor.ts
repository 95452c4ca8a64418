/**
 * The triggers actor: the {@link TriggerHub} (file watches, usage conditions) behind a supervised
 * mailbox. The scheduler `tell`s it what each job should watch; only `addJob` asks (to refuse a
 * path that cannot be watched), with a deadline. A restart builds a fresh hub and re-subscribes
 * every job's triggers from the `registry` peer (on the main thread: it outlives incarnations and
 * threads); each watch then delivers what changed since its last snapshot.
 *
 * Let it crash (spawned with `onUnexpectedError: 'crash'`): `$crashed` abandons the dead hub at
 * once — its native watches are closed (their snapshots kept), its sampler's timer stopped, and any
 * fire it would still report is dropped — so the new hub is the only one firing. A change made
 * while no hub watched (or still in a dead hub's debounce) is newer than the last snapshot, which
 * is only written after a delivered fire: the new hub's catch-up delivers it.
 *
 * Module logic: the same code runs on the main thread or in its own worker thread (placement).
 * Fires go to the `owner` peer (the scheduler actor); the hub's health is published as facts
 * after every change (ActorContext.publish).
 */
import type { TriggerSpec } from '../../model/job';
import { peerLogger, type LogHandlers } from '../../runtime/log-peer';
import { CRASH_HANDLER, STOP_HANDLER, type ActorContext, type PeerRef } from '../../runtime/types';
import type { RunEvent } from '../executor/types';
import { TriggerHub, type TriggerHealth } from './hub';
import type { Subscribe } from './watch';

/** What the triggers actor is started with (plain data: it may start in a worker thread). */
export interface TriggersInit {
  /** Directory of the watches' snapshots. */
  snapshotDir: string;
  /** Real-time deadline of a native watch subscribe. @default 5000 */
  subscribeTimeoutMs?: number;
}

/** Every job's wanted watch/usage triggers, kept on the main thread so a restart can rebuild. */
export type TriggerRegistryHandlers = {
  all(p: Record<string, never>): Array<[string, TriggerSpec[]]>;
  set(p: { jobId: string; triggers: TriggerSpec[] }): void;
  delete(p: { jobId: string }): void;
  clear(p: Record<string, never>): void;
};

/** What the hub says to its owner (the scheduler actor). */
export type TriggersOwner = {
  triggerFired(p: { jobId: string; reason: string; event: RunEvent | null }): unknown;
};

/** The triggers actor's peers. */
export interface TriggersPeers {
  owner: PeerRef<TriggersOwner>;
  registry: PeerRef<TriggerRegistryHandlers>;
  log?: PeerRef<LogHandlers>;
}

/** Main-thread-only extras (they are functions): a test's subscriber, and the hub itself for health. */
export interface TriggersLocal {
  subscribe?: Subscribe;
  onHub?(hub: TriggerHub): void;
}

/** The triggers actor's messages. */
export type TriggerHandlers = {
  /** Replaces the job's triggers. `strict`: refuse a path that cannot be watched (an add). */
  set(p: { jobId: string; triggers: TriggerSpec[]; strict?: boolean }): Promise<void>;
  remove(p: { jobId: string }): Promise<void>;
  clear(p: Record<string, never>): Promise<void>;
  /** Unsubscribes everything; later `set`s are ignored (shutdown). */
  stop(p: Record<string, never>): Promise<void>;
  /** Answers at once: the mailbox is being served. */
  heartbeat(p: Record<string, never>): true;
  /** The hub's health now, after every message before it (also published as facts). */
  health(p: Record<string, never>): TriggerHealth;
  [STOP_HANDLER](): Promise<void>;
  [CRASH_HANDLER](): void;
};

/** Jobs with watch or usage triggers only (`--after` is the scheduler's). */
function hubTriggers(triggers: TriggerSpec[]): TriggerSpec[] {
  return triggers.filter((t) => t.type !== 'after');
}

/** The hub's health as published facts (null before any incarnation). */
export type TriggersFacts = TriggerHealth;

/** Builds an incarnation: a fresh hub, re-subscribing every registered job (not awaited: its mailbox serves meanwhile). */
export async function buildTriggers(init: TriggersInit, ctx: ActorContext<TriggersPeers>, local: TriggersLocal = {}): Promise<TriggerHandlers> {
  const { owner, registry } = ctx.peers;
  const log = peerLogger(ctx.peers.log);
  let hub: TriggerHub | null = null;
  const publish = (): void => { if (hub !== null) ctx.publish(hub.health() satisfies TriggersFacts); };
  hub = new TriggerHub({
    clock: ctx.clock, logger: log, snapshotDir: init.snapshotDir,
    ...(local.subscribe ? { subscribe: local.subscribe } : {}),
    ...(init.subscribeTimeoutMs ? { subscribeTimeoutMs: init.subscribeTimeoutMs } : {}),
    onFire: (jobId, reason, event) => owner.tell('triggerFired', { jobId, reason, event: event ?? null }),
    onChange: publish,
  });
  const h = hub;
  local.onHub?.(h);
  for (const [jobId, triggers] of await registry.ask('all', {})) {
    h.set(jobId, triggers, false).then(publish, (err: unknown) => log.error({ jobId, err: String(err) }, 'cannot set up the job\'s triggers'));
  }
  publish();
  const published = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } finally {
      publish();
    }
  };
  return {
    async set({ jobId, triggers, strict }) {
      const wanted = hubTriggers(triggers);
      const record = (): void => {
        if (wanted.length > 0) registry.tell('set', { jobId, triggers: wanted });
        else registry.tell('delete', { jobId });
      };
      // A stored job (not strict) is wanted whatever happens to this incarnation: registered first,
      // so a crash during its subscribe leaves it for the next hub. A job being added (strict) is
      // registered once its watch works: refused (or crashed), it is not stored either.
      if (strict === false) record();
      await published(h.set(jobId, wanted, strict ?? true));
      if (strict !== false) record();
    },
    async remove({ jobId }) {
      registry.tell('delete', { jobId });
      await published(h.remove(jobId));
    },
    async clear() {
      registry.tell('clear', {});
      await published(h.clear());
    },
    async stop() {
      await published(h.stop());
    },
    heartbeat() {
      return true;
    },
    health() {
      publish();
      return h.health();
    },
    async [STOP_HANDLER]() {
      await h.stop();
    },
    [CRASH_HANDLER]() {
      h.abandon();
    },
  };
}

/** Builds an incarnation (the module logic, for either placement). */
export function createTriggerHandlers(init: TriggersInit, ctx: ActorContext<TriggersPeers>): Promise<TriggerHandlers> {
  return buildTriggers(init, ctx);
}
