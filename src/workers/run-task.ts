/**
 * The Piscina task that executes one run (ARCHITECTURE "Flow of a job", step 3). It mostly awaits a
 * child process, so many of these share one worker thread (`concurrentTasksPerWorker`).
 *
 * Cancelling goes through the MessagePort in the payload, never through Piscina's abort: aborting a
 * running task terminates its worker thread and every other run on it.
 */
import path from 'node:path';
import { type EventEnv, MAX_INLINE_PATHS_BYTES, eventEnv } from './run/event-env';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import {
  DEFAULT_KILL_GRACE_MS,
  DEFAULT_OUTPUT_LIMIT_BYTES,
  type CancelReason,
  type FromTaskMessage,
  type RunRequest,
  type RunResult,
  type RunTaskPayload,
  type ToTaskMessage,
} from '../actors/executor/types';
import { cancelCause } from './run/cancel';
import { endedEarly } from '../actors/executor/result';
import { ProcessRun, type SpawnSpec } from './run/process-run';

export { cancelCause } from './run/cancel';
import { jobEnvironment } from './run/job-env';

/** Default usage sampling period. */
const DEFAULT_SAMPLE_INTERVAL_MS = 250;

/** What a process-hosted module's context is built from besides the ids (module-host.ts). */
function moduleFacts(req: RunRequest): Record<string, string> {
  const facts: Record<string, string> = {};
  if (req.jobName !== undefined) facts.RAE_SCHED_JOB_NAME = req.jobName;
  if (req.scheduledAt !== undefined) facts.RAE_SCHED_SCHEDULED_AT = req.scheduledAt;
  // A huge event (thousands of paths) would overflow the environment: the module host then reads
  // it from the RAE_EVENT_* variables and their file instead (run/event-env.ts).
  if (req.event !== undefined && req.event !== null) {
    const json = JSON.stringify(req.event);
    if (Buffer.byteLength(json) <= MAX_INLINE_PATHS_BYTES) facts.RAE_SCHED_EVENT = json;
  }
  return facts;
}

/** Turns a request into what to spawn: a shell string, an argv, or the JS module host. */
export function spawnSpecFor(req: RunRequest, eventVars: Record<string, string> = {}): SpawnSpec | string {
  // Clean by default; `inheritEnv` opts in (src/workers/run/job-env.ts). What a file trigger saw (none
  // for other runs, see run/event-env.ts) comes after the job's own env, the RAE_SCHED_* facts last.
  const env: NodeJS.ProcessEnv = {
    ...jobEnvironment({ ...req, env: { ...req.env, ...eventVars } }),
    ...(req.module !== null ? moduleFacts(req) : {}),
  };
  const base = { cwd: req.cwd, env };
  if (req.module !== null) {
    const file = path.resolve(req.cwd ?? process.cwd(), req.module);
    return {
      ...base,
      file: process.execPath,
      args: [path.join(__dirname, 'module-host.js'), file],
      reportFd: true,
      label: `job module '${req.module}'`,
    };
  }
  const cmd = req.command;
  if (typeof cmd === 'string') {
    if (cmd.trim() === '') return 'command: must not be empty';
    return { ...base, file: '/bin/sh', args: ['-c', cmd], reportFd: false, label: 'the command' };
  }
  if (cmd && Array.isArray(cmd.argv) && cmd.argv.length > 0 && cmd.argv[0]) {
    const [file, ...args] = cmd.argv;
    return { ...base, file: file!, args, reportFd: false, label: `'${file}'` };
  }
  return cmd ? 'command.argv: must hold at least the program to run' : 'run request: needs a command or a module';
}

/** A cancel already waiting on the port (sent while the task sat in Piscina's queue). */
function pendingCancel(port: MessagePort): CancelReason | null {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    const msg = m.message as ToTaskMessage;
    if (msg?.type === 'cancel') return msg.reason;
  }
  return null;
}

/**
 * Executes one run to completion.
 * @returns the run's result; job failures of every kind are data, the promise does not reject.
 */
export default async function runTask({ request, port }: RunTaskPayload): Promise<RunResult> {
  let event: EventEnv | null = null;
  try {
    const early = pendingCancel(port);
    if (early) {
      const cause = cancelCause(early);
      return endedEarly(cause.status, cause.error);
    }
    event = eventEnv(request.event);
    const spec = spawnSpecFor(request, event.vars);
    if (typeof spec === 'string') return endedEarly('failed', spec);

    const run = new ProcessRun(spec, {
      limits: request.limits ?? {},
      outputLimitBytes: request.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES,
      killGraceMs: request.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
      sampleIntervalMs: request.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS,
      onStarted: (pid, startedAt) => {
        const msg: FromTaskMessage = { type: 'started', pid, startedAt };
        port.postMessage(msg);
      },
    });
    port.on('message', (msg: ToTaskMessage) => {
      if (msg?.type === 'cancel') run.kill(cancelCause(msg.reason));
    });
    return await run.run();
  } catch (err) {
    // A bug of ours, not the job's: still report it as data so the executor records the run.
    return endedEarly('failed', `internal executor error: ${(err as Error)?.message ?? String(err)}`);
  } finally {
    event?.cleanup();
    port.close();
  }
}
