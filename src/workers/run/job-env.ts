/**
 * The environment a run's process gets. Clean by default, as cron and systemd give their jobs: a
 * few variables describing the user and the locale, the job's own `env`, and the `RAE_SCHED_*`
 * facts — never the daemon's whole environment (whose secrets, e.g. `AWS_SECRET_ACCESS_KEY`, must
 * not reach every job). A job opts in with `inheritEnv: true` (everything) or a list of names.
 */
import { startTicks } from './proc-scan';

/** Variables every job gets from the scheduler's environment when they are set there. */
export const BASE_ENV_NAMES: readonly string[] = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'TZ'];
/** PATH when the scheduler has none: what cron uses. */
const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

/** What a run's environment is built from. */
export interface JobEnvInput {
  jobId: string;
  runId: string;
  attempt: number;
  /** The job's own variables (win over everything inherited). */
  env: Record<string, string>;
  /** `true`: the scheduler's whole environment; a list: those names too; absent/false: clean. */
  inheritEnv?: boolean | readonly string[];
}

/** Kernel start time of a process (field 22 of /proc/PID/stat, clock ticks since boot), or null. */
export function processStartTime(pid: number): string | null {
  const ticks = startTicks(pid);
  return ticks === null ? null : String(ticks);
}

let ownerToken: string | null = null;
/**
 * `PID:STARTTIME` of this scheduler process, carried by every run's processes as
 * `RAE_SCHED_OWNER`: clean-up after a crash kills only processes whose owner is really gone (a pid
 * alone may have been reused; pid + start time identifies one process for good).
 */
export function schedulerOwnerToken(): string {
  ownerToken ??= `${process.pid}:${processStartTime(process.pid) ?? '0'}`;
  return ownerToken;
}

/**
 * Makes `token` this process's owner token: the run host process (src/workers/run-host.ts) runs
 * jobs for the scheduler that started it, so their processes and cgroups carry its token.
 */
export function adoptOwnerToken(token: string): void {
  ownerToken = token;
}

/** Whether the owner token `PID:STARTTIME` names a live process other than `self`. */
export function ownerAlive(token: string | undefined, self: number = process.pid): boolean {
  if (token === undefined) return false;
  const [pidText, start] = token.split(':');
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === self) return false;
  return start !== undefined && processStartTime(pid) === start;
}

/** Builds the environment of one run's process. */
export function jobEnvironment(input: JobEnvInput, from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const inherit = input.inheritEnv ?? false;
  if (inherit === true) Object.assign(env, from);
  else {
    for (const name of [...BASE_ENV_NAMES, ...(inherit === false ? [] : inherit)]) {
      if (from[name] !== undefined) env[name] = from[name];
    }
    env.PATH ??= DEFAULT_PATH;
  }
  Object.assign(env, input.env);
  // Facts about the run, for scripts that want to log or dedupe by them; they also mark the run's
  // processes (and their descendants) for containment and crash clean-up, so they always win.
  env.RAE_SCHED_JOB_ID = input.jobId;
  env.RAE_SCHED_RUN_ID = input.runId;
  env.RAE_SCHED_ATTEMPT = String(input.attempt);
  env.RAE_SCHED_OWNER = schedulerOwnerToken();
  return env;
}
