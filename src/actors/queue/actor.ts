/**
 * The queue actor: owns the timeline of upcoming fires (one armed timer for the earliest). It
 * never waits on other actors — it only `tell`s the scheduler what fell due, every due entry of a
 * wake in one message — so the scheduler can `ask` it from inside its own handlers without risk of
 * deadlock. (The ready queue of runs waiting for capacity lives in the scheduler's RunBook: starting
 * a run is then memory work, not a message.)
 */
import type { Clock } from '../../runtime/clock';
import { CRASH_HANDLER, STOP_HANDLER } from '../../runtime/types';
import { Timeline, type TimelineEntry } from './timeline';
import { TimelineTimer } from './timer';

/** Timeline keys of retries: `retry:<runId>` (job keys are job ids, which never contain ':'). */
export const RETRY_KEY_PREFIX = 'retry:';

/** Init of the queue actor (main thread: it holds callbacks). */
export interface QueueInit {
  clock: Clock;
  onDue(due: TimelineEntry[]): void;
  onClockJump(deltaMs: number): void | Promise<void>;
  onError(err: unknown): void;
  /** Most entries handed over per `onDue` call. @default 1000 */
  maxBatch?: number;
}

/** The queue actor's messages. */
export type QueueHandlers = {
  arm(p: { key: string; at: number }): void;
  /**
   * A whole turn's timeline changes in one message; `leadMs`: hand entries over that long before
   * they are due (the scheduler commits fires ahead of their slot, src/actors/queue/timer.ts).
   */
  armMany(p: { entries: TimelineEntry[]; disarm?: string[]; leadMs?: number }): void;
  disarm(p: { key: string }): boolean;
  depth(p: Record<string, never>): { scheduled: number };
  armedAt(p: { key: string }): number | null;
  /** Answers at once: the mailbox is being served (health's heartbeat). */
  heartbeat(p: Record<string, never>): true;
  /** @internal The earliest entry (key and due time), read between messages by health's dead-man's switch. */
  earliest(p: Record<string, never>): { key: string; at: number } | null;
  [STOP_HANDLER](): void;
  /** Crashed: the old timer must not fire into the scheduler beside the next incarnation's. */
  [CRASH_HANDLER](): void;
};

/** Builds a fresh queue incarnation; the scheduler re-arms it from its memory after a restart. */
export function createQueueHandlers(init: QueueInit): QueueHandlers {
  const timeline = new Timeline();
  const timer = new TimelineTimer({
    clock: init.clock,
    timeline,
    onDue: init.onDue,
    onClockJump: init.onClockJump,
    onError: init.onError,
    maxBatch: init.maxBatch,
  });
  timer.start();
  return {
    arm({ key, at }) {
      timeline.upsert(key, at);
      timer.reschedule();
    },
    armMany({ entries, disarm, leadMs }) {
      if (leadMs !== undefined) timer.setLead(leadMs);
      for (const key of disarm ?? []) timeline.remove(key);
      // One batch: a large one (start-up) is heapified at once rather than inserted one by one.
      timeline.upsertMany(entries);
      timer.reschedule();
    },
    disarm({ key }) {
      const removed = timeline.remove(key);
      if (removed) timer.reschedule();
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
    earliest() {
      const e = timeline.peek();
      return e === undefined ? null : { key: e.jobId, at: e.at };
    },
    [STOP_HANDLER]() {
      timer.stop();
    },
    [CRASH_HANDLER]() {
      timer.stop();
    },
  };
}
