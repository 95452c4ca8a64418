/**
 * One process run (ARCHITECTURE "Flow of a job", step 3): what to spawn for a request, and the
 * run's execution to its end. It runs in the run host process (src/workers/run-host.ts), which
 * holds many of these at once: each mostly awaits its child process.
 */
import path from 'node:path';
import { type EventEnv, MAX_INLINE_PATHS_BYTES, eventEnv } from './run/event-env';
import {
  DEFAULT_KILL_GRACE_MS,
  DEFAULT_OUTPUT_LIMIT_BYTES,
  type CancelReason,
  type RunRequest,
  type RunResult,
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

/** A run in progress in the run host: its result, and how to stop it. */
export interface RunExecution {
  /** Resolves with the run's result; job failures of every kind are data, it never rejects. */
  result: Promise<RunResult>;
  /** Stops the run (its whole tree); before it spawned, it ends without running. Idempotent. */
  cancel(reason: CancelReason): void;
}

/**
 * Starts one run: spawns it (through its cgroup where there is one), supervises it to the end.
 * `onStarted` is called once the process has spawned, always before `result` resolves.
 */
export function executeRun(request: RunRequest, onStarted: (pid: number, startedAt: number) => void): RunExecution {
  let cancelled: CancelReason | null = null;
  let run: ProcessRun | null = null;
  const result = (async (): Promise<RunResult> => {
    let event: EventEnv | null = null;
    try {
      event = eventEnv(request.event);
      const spec = spawnSpecFor(request, event.vars);
      if (typeof spec === 'string') return endedEarly('failed', spec);
      run = new ProcessRun(spec, {
        limits: request.limits ?? {},
        outputLimitBytes: request.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES,
        killGraceMs: request.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
        sampleIntervalMs: request.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS,
        onStarted,
      });
      // A cancel that came first: the run ends before it spawns (ProcessRun checks its cause).
      if (cancelled !== null) run.kill(cancelCause(cancelled));
      return await run.run();
    } catch (err) {
      // A bug of ours, not the job's: still report it as data so the executor records the run.
      return endedEarly('failed', `internal executor error: ${(err as Error)?.message ?? String(err)}`);
    } finally {
      event?.cleanup();
    }
  })();
  return {
    result,
    cancel: (reason) => {
      if (cancelled !== null) return;
      cancelled = reason;
      run?.kill(cancelCause(reason));
    },
  };
}
