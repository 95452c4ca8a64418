/**
 * The executor actor: a thin mailbox in front of the {@link ExecutorPool}. `start` returns as soon
 * as the run is handed to the pool; the run's progress comes back to the scheduler as messages
 * (`onStarted` / `onFinished`), so no mailbox is ever blocked by a long-running job.
 */
import type { Logger } from '../../api';
import { STOP_HANDLER } from '../../runtime/types';
import { ExecutorPool } from './pool';
import type { CancelReason, RunRequest, RunResult } from './types';

/** Init of the executor actor (main thread: it holds callbacks). */
export interface ExecutorInit {
  maxConcurrent: number;
  logger?: Logger;
  onStarted(runId: string, info: { pid: number | null; startedAt: number }): void;
  onFinished(runId: string, result: RunResult): void;
}

/** The executor actor's messages. */
export type ExecutorHandlers = {
  start(p: { request: RunRequest }): void;
  cancel(p: { runId: string; reason: CancelReason }): boolean;
  running(p: Record<string, never>): number;
  /** Stops taking work; running runs get `graceMs`, then are interrupted. */
  close(p: { graceMs: number }): Promise<void>;
  [STOP_HANDLER](): Promise<void>;
};

/** Builds an executor incarnation with its own pool. */
export function createExecutorHandlers(init: ExecutorInit): ExecutorHandlers {
  const pool = new ExecutorPool({ maxConcurrent: init.maxConcurrent, logger: init.logger });
  const active = new Map<string, (reason: CancelReason) => void>();
  let closed = false;
  return {
    start({ request }) {
      const handle = pool.start(request, { onStarted: (info) => init.onStarted(request.runId, info) });
      active.set(request.runId, (r) => handle.cancel(r));
      void handle.result.then((result) => {
        active.delete(request.runId);
        init.onFinished(request.runId, result);
      });
    },
    cancel({ runId, reason }) {
      const cancel = active.get(runId);
      if (cancel === undefined) return false;
      cancel(reason);
      return true;
    },
    running() {
      return active.size;
    },
    async close({ graceMs }) {
      if (closed) return;
      closed = true;
      await pool.close({ graceMs });
    },
    async [STOP_HANDLER]() {
      if (!closed) {
        closed = true;
        await pool.close({ graceMs: 0 });
      }
    },
  };
}
