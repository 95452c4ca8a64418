/**
 * The queue actor: owns the timeline of upcoming fires (one armed timer for the earliest) and the
 * ready queue. It never waits on other actors — it only `tell`s the scheduler what fell due — so the
 * scheduler can `ask` it from inside its own handlers without risk of deadlock.
 */
import type { Clock } from '../../runtime/clock';
import { STOP_HANDLER } from '../../runtime/types';
import { Timeline, type TimelineEntry } from './timeline';
import { TimelineTimer } from './timer';
import { ReadyQueue, type ReadyItem } from './ready-queue';

/** Timeline keys of retries: `retry:<runId>` (job keys are job ids, which never contain ':'). */
export const RETRY_KEY_PREFIX = 'retry:';

/** Init of the queue actor (main thread: it holds callbacks). */
export interface QueueInit {
  clock: Clock;
  maxQueued: number;
  onDue(due: TimelineEntry[]): void;
  onClockJump(deltaMs: number): void;
  onError(err: unknown): void;
}

/** The queue actor's messages. */
export type QueueHandlers = {
  arm(p: { key: string; at: number }): void;
  armMany(p: { entries: TimelineEntry[] }): void;
  disarm(p: { key: string }): boolean;
  /** @throws QueueFullError */
  enqueue(p: { item: ReadyItem }): 'queued' | 'deduped';
  pull(p: Record<string, never>): ReadyItem | null;
  /** Removes every queued item of the job (and its timeline entry); returns the removed items. */
  removeJob(p: { jobId: string }): ReadyItem[];
  countForJob(p: { jobId: string }): number;
  depth(p: Record<string, never>): { depth: number; scheduled: number };
  armedAt(p: { key: string }): number | null;
  [STOP_HANDLER](): void;
};

/** Builds a fresh queue incarnation; the scheduler re-arms it from the store after a restart. */
export function createQueueHandlers(init: QueueInit): QueueHandlers {
  const timeline = new Timeline();
  const ready = new ReadyQueue({ maxSize: init.maxQueued });
  const timer = new TimelineTimer({
    clock: init.clock,
    timeline,
    onDue: init.onDue,
    onClockJump: init.onClockJump,
    onError: init.onError,
  });
  timer.start();
  return {
    arm({ key, at }) {
      timeline.upsert(key, at);
      timer.reschedule();
    },
    armMany({ entries }) {
      for (const e of entries) timeline.upsert(e.jobId, e.at);
      timer.reschedule();
    },
    disarm({ key }) {
      const removed = timeline.remove(key);
      if (removed) timer.reschedule();
      return removed;
    },
    enqueue({ item }) {
      return ready.push(item);
    },
    pull() {
      return ready.pop() ?? null;
    },
    removeJob({ jobId }) {
      if (timeline.remove(jobId)) timer.reschedule();
      return ready.removeJob(jobId);
    },
    countForJob({ jobId }) {
      return ready.countForJob(jobId);
    },
    depth() {
      return { depth: ready.size, scheduled: timeline.size };
    },
    armedAt({ key }) {
      return timeline.get(key) ?? null;
    },
    [STOP_HANDLER]() {
      timer.stop();
    },
  };
}
