/**
 * The executor actor: a thin mailbox in front of the {@link ExecutorPool}. `startMany` takes every
 * run the scheduler starts in one turn and returns as soon as they are handed to the pool; results
 * come back to the scheduler batched — every result that arrives in one event-loop turn goes out
 * as ONE `onFinished` call — so no mailbox is ever blocked by a long-running job and a burst of
 * finishes costs one message.
 *
 * Each run's result comes from the pool by callback (`RunHooks.onDone`: no promise per run); thread
 * module runs travel many per Piscina task (module-threads.ts).
 */
import { peerLogger, type LogHandlers } from '../../runtime/log-peer';
import { runSliced } from '../../runtime/slice';
import { ActorCrash, CRASH_HANDLER, STOP_HANDLER, type ActorContext, type PeerRef } from '../../runtime/types';
import { containment } from '../../workers/run/cgroup-detect';
import { ExecutorPool, type RunHandle } from './pool';
import type { CancelReason, RunRequest, RunResult } from './types';
import { endedEarly } from './result';

/** A result for the scheduler. */
export interface FinishedRun {
  runId: string;
  result: RunResult;
}

/** Init of the executor actor (plain data: it may start in a worker thread). */
export interface ExecutorInit {
  maxConcurrent: number;
}

/** What the executor says to its owner (the scheduler actor): a sub-protocol of the scheduler's. */
export type ExecutorOwner = {
  /** Every result of one event-loop turn, in one message. */
  runsFinished(p: { results: FinishedRun[] }): unknown;
};

/** The executor's peers. */
export interface ExecutorPeers {
  owner: PeerRef<ExecutorOwner>;
  log?: PeerRef<LogHandlers>;
}

/**
 * A fault the executor's test hook injects into its next `startMany`: `slow` hands the runs over
 * only after `ms` of real time (the scheduler's ask may time out first), `crash` ends the
 * incarnation (ActorCrash: the supervisor restarts it).
 * @internal for tests
 */
export interface ExecutorFault {
  mode: 'slow' | 'crash';
  ms?: number;
  times?: number;
}

/** The executor actor's messages. */
export type ExecutorHandlers = {
  /** Hands runs to the pool; returns once they are handed over. */
  startMany(p: { requests: RunRequest[] }): void | Promise<void>;
  cancel(p: { runId: string; reason: CancelReason }): boolean;
  running(p: Record<string, never>): number;
  /** Stops taking work; running runs get `graceMs`, then are interrupted (their results delivered). */
  close(p: { graceMs: number }): Promise<void>;
  /** Test hook. @internal */
  injectFault(p: ExecutorFault): void;
  /** Answers at once: the mailbox is being served (health's heartbeat). */
  heartbeat(p: Record<string, never>): true;
  [STOP_HANDLER](): Promise<void>;
  /** Crashed: its runs end with it (as they would with a dead thread); their results are dropped. */
  [CRASH_HANDLER](): Promise<void>;
};

/** Builds an executor incarnation with its own pool (main thread or its own worker thread: placement). */
export function createExecutorHandlers(init: ExecutorInit, ctx: ActorContext<ExecutorPeers>): ExecutorHandlers {
  const logger = peerLogger(ctx.peers.log);
  const pool = new ExecutorPool({ maxConcurrent: init.maxConcurrent, logger });
  // Which containment the runs get (docs/jobs.md "Containment"): detected once here, said once.
  logger.info({ containment: containment().summary }, 'run containment');
  const active = new Map<string, RunHandle>();
  let dead = false;
  const faults: ExecutorFault[] = [];
  let done: FinishedRun[] = [];
  let flushing = false;
  let closed = false;
  const flush = (): void => {
    flushing = false;
    if (done.length === 0) return;
    const out = done;
    done = [];
    ctx.peers.owner.tell('runsFinished', { results: out });
  };
  const finished = (runId: string, result: RunResult): void => {
    if (dead) return;
    done.push({ runId, result });
    // Results resolving in the same turn (a burst of short runs) share one message.
    if (!flushing) {
      flushing = true;
      setImmediate(flush);
    }
  };
  const start = (request: RunRequest): void => {
    const { runId } = request;
    let handle: RunHandle;
    let ended = false;
    try {
      // The result comes through onDone (no promise and `then` per run).
      handle = pool.start(request, {
        onDone: (result) => {
          ended = true;
          active.delete(runId);
          finished(runId, result);
        },
      });
    } catch (err) {
      // The pool refused it (closing): the run is over before it began, and says why.
      finished(runId, endedEarly('interrupted', `the executor did not take the run: ${(err as Error).message}`));
      return;
    }
    if (!ended) active.set(runId, handle);
  };
  return {
    startMany({ requests }) {
      const fault = faults[0];
      if (fault !== undefined) {
        fault.times = (fault.times ?? 1) - 1;
        if (fault.times <= 0) faults.shift();
        if (fault.mode === 'crash') throw new ActorCrash('injected executor crash (test)');
        return new Promise<void>((resolve) => setTimeout(() => {
          for (const r of requests) start(r);
          resolve();
        }, fault.ms ?? 1000));
      }
      // Many starts (each a hand-over to a pool) run in time slices (src/runtime/slice.ts), in order.
      return runSliced(requests, start);
    },
    cancel({ runId, reason }) {
      const handle = active.get(runId);
      if (handle === undefined) return false;
      handle.cancel(reason);
      return true;
    },
    running() {
      return active.size;
    },
    async close({ graceMs }) {
      if (closed) return;
      closed = true;
      await pool.close({ graceMs });
      // Every run's result is out before close answers (the scheduler then drains in order).
      await new Promise((r) => setImmediate(r));
      flush();
    },
    injectFault(p) {
      faults.push({ ...p });
    },
    heartbeat() {
      return true;
    },
    async [STOP_HANDLER]() {
      if (!closed) {
        closed = true;
        await pool.close({ graceMs: 0 });
      }
    },
    async [CRASH_HANDLER]() {
      dead = true;
      if (!closed) {
        closed = true;
        await pool.close({ graceMs: 0 });
      }
    },
  };
}
