/**
 * The Piscina task of JS job modules with `isolation: 'thread'` (docs/jobs.md "Thread or process").
 * One task carries a batch of runs; they run concurrently in this thread, each in its own
 * AsyncLocalStorage context (output, process.exit and escaped errors are charged to the right run).
 * Results of runs that settle while others of the batch still run are posted early, grouped per
 * event-loop turn; the task resolves with the rest once all have settled. Protocol:
 * `src/actors/executor/thread-protocol.ts`.
 */
import { BroadcastChannel, parentPort, workerData } from 'node:worker_threads';
import {
  packResult, unpackRequests, type ModuleTaskPayload, type ModuleTaskResult, type ModuleThreadCommand, type ModuleThreadData,
  type ModuleThreadEvent, type PackedResult,
} from '../actors/executor/thread-protocol';
import type { RunRequest, RunResult } from '../actors/executor/types';
import { cancelCause, type KillCause } from './run/cancel';
import { endedEarly } from '../actors/executor/result';
import { ModuleCache } from './run/module-cache';
import { installThreadHost } from './run/thread-host';
import { ThreadRun, type ThreadRunHooks } from './run/thread-run';

/** How long a cancel for a run this thread has not seen yet is remembered (it may be on its way). */
const EARLY_CANCEL_TTL_MS = 60_000;

const post = (msg: ModuleThreadEvent): void => parentPort?.postMessage(msg);

let retired = false;
function retire(reason: string): void {
  if (retired) return;
  retired = true;
  post({ type: 'rae.retire', reason });
}

const host = installThreadHost(retire);
const cache = new ModuleCache(retire);
const running = new Map<string, ThreadRun>();
const earlyCancels = new Map<string, { cause: KillCause; at: number }>();

const data = workerData as ModuleThreadData | undefined;
if (data?.commands) {
  const commands = new BroadcastChannel(data.commands);
  commands.unref();
  commands.onmessage = (ev) => {
    const cmd = (ev as { data: ModuleThreadCommand }).data;
    if (cmd?.type !== 'cancel') return;
    const run = running.get(cmd.runId);
    // Inside the run's context: the module's abort listeners run synchronously from here, and
    // what they print belongs to the run.
    if (run) return host.runs.run(run, () => run.stop(cancelCause(cmd.reason)));
    const now = Date.now();
    for (const [id, c] of earlyCancels) if (now - c.at > EARLY_CANCEL_TTL_MS) earlyCancels.delete(id);
    earlyCancels.set(cmd.runId, { cause: cancelCause(cmd.reason), at: now });
  };
}

async function execute(req: RunRequest, task: ModuleTaskPayload, hooks: ThreadRunHooks): Promise<RunResult> {
  const early = earlyCancels.get(req.runId);
  if (early) {
    earlyCancels.delete(req.runId);
    return endedEarly(early.cause.status, early.cause.error);
  }
  const run = new ThreadRun(req);
  running.set(req.runId, run);
  if (task.solo) post({ type: 'rae.started', batch: task.batch, runId: req.runId, startedAt: Date.now() });
  try {
    return await host.runs.run(run, () => run.run(hooks));
  } finally {
    running.delete(req.runId);
  }
}

/** Runs every run of the batch; never rejects for a job's failure. */
export default async function moduleTask(task: ModuleTaskPayload): Promise<ModuleTaskResult> {
  const { batch } = task;
  const runs = unpackRequests(task);
  const checked = new Set<string>();
  const hooks: ThreadRunHooks = { load: (f) => cache.load(f, checked), mayAbandon: !task.solo, retire };
  if (runs.length === 1) return [packResult(await execute(runs[0]!, task, hooks))];
  const out: ModuleTaskResult = new Array<PackedResult | null>(runs.length).fill(null);
  let unsent: number[] = [];
  let flush: NodeJS.Immediate | null = null;
  const sendEarly = (): void => {
    flush = null;
    const items = unsent.map((i): [number, PackedResult] => [i, out[i]!]);
    for (const i of unsent) out[i] = null;
    unsent = [];
    post({ type: 'rae.results', batch, items });
  };
  await Promise.all(runs.map(async (req, i) => {
    out[i] = packResult(await execute(req, task, hooks));
    unsent.push(i);
    // Runs that settle in the same turn as the last one travel with the task's own answer.
    flush ??= setImmediate(sendEarly);
  }));
  if (flush) clearImmediate(flush);
  return out;
}
