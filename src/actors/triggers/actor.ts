/**
 * The triggers actor: the {@link TriggerHub} (file watches, usage conditions) behind a supervised
 * mailbox. The scheduler `tell`s it what each job should watch; only `addJob` asks (to refuse a
 * path that cannot be watched), with a deadline. A restart builds a fresh hub and re-subscribes
 * every job's triggers from the registry, which outlives incarnations; each watch then delivers
 * what changed since its last snapshot.
 *
 * Let it crash (spawned with `onUnexpectedError: 'crash'`): `$crashed` abandons the dead hub at
 * once — its native watches are closed (their snapshots kept), its sampler's timer stopped, and any
 * fire it would still report is dropped — so the new hub is the only one firing. A change made
 * while no hub watched (or still in a dead hub's debounce) is newer than the last snapshot, which
 * is only written after a delivered fire: the new hub's catch-up delivers it.
 */
import type { TriggerSpec } from '../../model/job';
import { CRASH_HANDLER, STOP_HANDLER } from '../../runtime/types';
import { TriggerHub, type TriggerHubOptions } from './hub';

/** What the triggers actor is started with (main thread: it holds callbacks). */
export interface TriggersInit {
  hub: TriggerHubOptions;
  /** Every job's wanted watch/usage triggers; kept by the caller so a restart can rebuild. */
  registry: Map<string, TriggerSpec[]>;
  /** The hub of each new incarnation (health reads it between messages). */
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
  [STOP_HANDLER](): Promise<void>;
  [CRASH_HANDLER](): void;
};

/** Jobs with watch or usage triggers only (`--after` is the scheduler's). */
function hubTriggers(triggers: TriggerSpec[]): TriggerSpec[] {
  return triggers.filter((t) => t.type !== 'after');
}

/** Builds an incarnation: a fresh hub, re-subscribing every registered job (not awaited: its mailbox serves meanwhile). */
export function createTriggerHandlers(init: TriggersInit): TriggerHandlers {
  const hub = new TriggerHub(init.hub);
  init.onHub?.(hub);
  const log = init.hub.logger;
  for (const [jobId, triggers] of init.registry) {
    hub.set(jobId, triggers, false).catch((err: unknown) => log?.error({ jobId, err: String(err) }, 'cannot set up the job\'s triggers'));
  }
  return {
    async set({ jobId, triggers, strict }) {
      const wanted = hubTriggers(triggers);
      const record = (): void => {
        if (wanted.length > 0) init.registry.set(jobId, wanted);
        else init.registry.delete(jobId);
      };
      // A stored job (not strict) is wanted whatever happens to this incarnation: registered first,
      // so a crash during its subscribe leaves it for the next hub. A job being added (strict) is
      // registered once its watch works: refused (or crashed), it is not stored either.
      if (strict === false) record();
      await hub.set(jobId, wanted, strict ?? true);
      if (strict !== false) record();
    },
    async remove({ jobId }) {
      init.registry.delete(jobId);
      await hub.remove(jobId);
    },
    async clear() {
      init.registry.clear();
      await hub.clear();
    },
    async stop() {
      await hub.stop();
    },
    heartbeat() {
      return true;
    },
    async [STOP_HANDLER]() {
      await hub.stop();
    },
    [CRASH_HANDLER]() {
      hub.abandon();
    },
  };
}
