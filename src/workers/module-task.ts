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
import { ThreadRun, settingsOf, type ThreadRunHooks, type ThreadRunSettings } from './run/thread-run';

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

/** Runs one run; `done` gets its result (once). Never throws for a job's failure. */
function execute(req: RunRequest, task: ModuleTaskPayload, hooks: ThreadRunHooks, settings: ThreadRunSettings, done: (r: RunResult) => void): void {
  const early = earlyCancels.get(req.runId);
  if (early) {
    earlyCancels.delete(req.runId);
    return done(endedEarly(early.cause.status, early.cause.error));
  }
  const run = new ThreadRun(req, (r) => {
    running.delete(req.runId);
    done(r);
  }, settings);
  running.set(req.runId, run);
  if (task.solo) post({ type: 'rae.started', batch: task.batch, runId: req.runId, startedAt: Date.now() });
  host.runs.run(run, () => run.run(hooks));
}

/**
 * Runs every run of the batch; never rejects for a job's failure. Results come by callback and are
 * counted (no promise per run); each job's settings are worked out once per task.
 */
export default function moduleTask(task: ModuleTaskPayload): Promise<ModuleTaskResult> {
  const { batch } = task;
  const runs = unpackRequests(task);
  const settings = task.jobs.map(settingsOf);
  const checked = new Set<string>();
  const hooks: ThreadRunHooks = { load: (f) => cache.load(f, checked), loaded: (f) => cache.loaded(f, checked), mayAbandon: !task.solo, retire };
  const settingsAt = (i: number): ThreadRunSettings => settings[task.runs[i]![1]]!;
  if (runs.length === 1) return new Promise((resolve) => execute(runs[0]!, task, hooks, settingsAt(0), (r) => resolve([packResult(r)])));
  return new Promise((resolve) => {
    const out: ModuleTaskResult = new Array<PackedResult | null>(runs.length).fill(null);
    let left = runs.length;
    let unsent: number[] = [];
    let flush: NodeJS.Immediate | null = null;
    const sendEarly = (): void => {
      flush = null;
      const items = unsent.map((i): [number, PackedResult] => [i, out[i]!]);
      for (const i of unsent) out[i] = null;
      unsent = [];
      post({ type: 'rae.results', batch, items });
    };
    for (let i = 0; i < runs.length; i++) {
      execute(runs[i]!, task, hooks, settingsAt(i), (r) => {
        out[i] = packResult(r);
        if (--left === 0) {
          // Runs that settle in the same turn as the last one travel with the task's own answer.
          if (flush) clearImmediate(flush);
          resolve(out);
          return;
        }
        unsent.push(i);
        flush ??= setImmediate(sendEarly);
      });
    }
  });
}
