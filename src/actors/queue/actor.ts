/**
 * The queue actor: owns the timeline of upcoming fires (one armed timer for the earliest). It
 * never waits on other actors — it only `tell`s the scheduler what fell due, every due entry of a
 * wake in one message — so the scheduler can `ask` it from inside its own handlers without risk of
 * deadlock. It runs on the main thread or in its own worker thread (placement), the same code:
 * its clock and peers come in `ctx`, and its depth and earliest entry are published as facts.
 * (The ready queue of runs waiting for capacity lives in the scheduler's RunBook: starting
 * a run is then memory work, not a message.)
 */
import { peerLogger, type LogHandlers } from '../../runtime/log-peer';
import { CRASH_HANDLER, STOP_HANDLER, type ActorContext, type ActorRef, type Handlers, type PeerRef } from '../../runtime/types';
import { Timeline, type TimelineEntry } from './timeline';
import { TimelineTimer } from './timer';

/** Timeline keys of retries: `retry:<runId>` (job keys are job ids, which never contain ':'). */
export const RETRY_KEY_PREFIX = 'retry:';

/** Init of the queue actor (plain data: it may start in a worker thread). */
export interface QueueInit {
  /** Most entries handed over per `slotsDue` message. @default 1000 */
  maxBatch?: number;
}

/** What the queue says to its owner (the scheduler actor): a sub-protocol of the scheduler's. */
export type QueueOwner = {
  slotsDue(p: { due: TimelineEntry[] }): unknown;
  clockJumped(p: { deltaMs: number }): unknown;
};

/** The queue's peers. */
export interface QueuePeers {
  owner: PeerRef<QueueOwner>;
  log?: PeerRef<LogHandlers>;
}

/**
 * What the queue publishes after every change (ActorContext.publish): the read path and health
 * read it on the main thread wherever the queue runs.
 */
export interface QueueFacts {
  scheduled: number;
  /** The earliest entry (dead-man's switch). */
  earliest: { key: string; at: number } | null;
}

/** The queue's last published facts (empty before its first start). */
export function queueFacts(ref: ActorRef<Handlers>): QueueFacts {
  return (ref.facts() as QueueFacts | undefined) ?? { scheduled: 0, earliest: null };
}
/** The queue actor's messages. */
export type QueueHandlers = {
  arm(p: { key: string; at: number }): void;
  /**
   * A whole turn's timeline changes in one message, the entries as two columns (keys, fire times:
   * no object per entry to build, clone or collect); `leadMs`: hand entries over that long before
   * they are due (the scheduler commits fires ahead of their slot, src/actors/queue/timer.ts).
   */
  armMany(p: { keys: string[]; at: Float64Array; disarm?: string[]; leadMs?: number }): void;
  disarm(p: { key: string }): boolean;
  depth(p: Record<string, never>): { scheduled: number };
  armedAt(p: { key: string }): number | null;
  /** Answers at once: the mailbox is being served (health's heartbeat). */
  heartbeat(p: Record<string, never>): true;
  [STOP_HANDLER](): void;
  /** Crashed: the old timer must not fire into the scheduler beside the next incarnation's. */
  [CRASH_HANDLER](): void;
};

/** Builds a fresh queue incarnation; the scheduler re-arms it from its memory after a restart. */
export function createQueueHandlers(init: QueueInit, ctx: ActorContext<QueuePeers>): QueueHandlers {
  const timeline = new Timeline();
  const { owner } = ctx.peers;
  const log = peerLogger(ctx.peers.log);
  const publish = (): void => {
    const e = timeline.peek();
    ctx.publish({ scheduled: timeline.size, earliest: e === undefined ? null : { key: e.jobId, at: e.at } } satisfies QueueFacts);
  };
  const timer = new TimelineTimer({
    clock: ctx.clock,
    timeline,
    onDue: (due) => {
      publish();
      owner.tell('slotsDue', { due });
    },
    onClockJump: async (deltaMs) => { await owner.ask('clockJumped', { deltaMs }); },
    onError: (err) => log.error({ err: String(err) }, 'queue timer error'),
    maxBatch: init.maxBatch,
  });
  timer.start();
  publish();
  return {
    arm({ key, at }) {
      timeline.upsert(key, at);
      timer.reschedule();
      publish();
    },
    armMany({ keys, at, disarm, leadMs }) {
      if (leadMs !== undefined) timer.setLead(leadMs);
      for (const key of disarm ?? []) timeline.remove(key);
      // One batch: a large one (start-up) is heapified at once rather than inserted one by one.
      timeline.upsertColumns(keys, at);
      timer.reschedule();
      publish();
    },
    disarm({ key }) {
      const removed = timeline.remove(key);
      if (removed) {
        timer.reschedule();
        publish();
      }
      return removed;
    },
    depth() {
      return { scheduled: timeline.size };
    },
    armedAt({ key }) {
      return timeline.get(key) ?? null;
    },
    heartbeat() {
      return true;
    },
    [STOP_HANDLER]() {
      timer.stop();
    },
    [CRASH_HANDLER]() {
      timer.stop();
    },
  };
}
