/**
 * One run of one process: spawn it as the leader of its own process group, capture its output in a
 * bounded ring, sample its usage, enforce its limits, and kill the whole group when it must stop.
 * Every outcome — including "could not start" — is a {@link RunResult}, never an exception.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import type { Limits } from '../../model/job';
import type { RunOutcome, RunResult } from '../../actors/executor/types';
import { endedEarly, runResult } from '../../actors/executor/result';
import { timeoutCause, type KillCause } from './cancel';
import { OutputRing } from './output-ring';
import { groupAlive, terminateGroup } from './process-group';
import { LimitPolicy, UsageSampler } from './usage';
import { killEscaped, runTree, startTicks } from './descendants';
import { RunCgroup } from './cgroup';
import { programError } from './program';

/** What to start. `file` + `args` are passed to spawn with no shell. */
export interface SpawnSpec {
  file: string;
  args: string[];
  cwd: string | null;
  env: NodeJS.ProcessEnv;
  /** Open fd 3 as a pipe for a structured report (the JS module host uses it). */
  reportFd: boolean;
  /** How to name the program in error messages. */
  label: string;
}

/** Settings of a process run, already filled with defaults. */
export interface ProcessRunOptions {
  limits: Limits;
  outputLimitBytes: number;
  killGraceMs: number;
  sampleIntervalMs: number;
  onStarted(pid: number, startedAt: number): void;
}

export type { KillCause } from './cancel';

/** The report a JS module host writes on fd 3. */
interface ModuleReport {
  ok: boolean;
  error?: string;
}

const REPORT_LIMIT = 64 * 1024;
/** After the main process exits, how long to wait for its pipes to close before giving up on them. */
const PIPE_DRAIN_MS = 2000;

/** A single process execution. Call {@link ProcessRun.run} once; {@link ProcessRun.kill} at any time. */
export class ProcessRun {
  readonly #spec: SpawnSpec;
  readonly #opts: ProcessRunOptions;
  readonly #ring: OutputRing;
  readonly #policy: LimitPolicy;
  #cause: KillCause | null = null;
  #pid: number | null = null;
  /** The run's marker and the main process's start time: what finds escaped descendants. */
  #tree: { runId: string; sinceTicks: number } | null = null;
  #killing: Promise<void> | null = null;
  /** The run's cgroup where one could be made (src/workers/run/cgroup.ts); else the marker scan. */
  #cgroup: RunCgroup | null = null;
  /** The run's group was seen empty after its main process exited (nothing left to kill). */
  #emptied = false;

  constructor(spec: SpawnSpec, opts: ProcessRunOptions) {
    this.#spec = spec;
    this.#opts = opts;
    this.#ring = new OutputRing(opts.outputLimitBytes);
    this.#policy = new LimitPolicy(opts.limits);
  }

  /** Asks the run to stop: kills the whole group (SIGTERM, grace, SIGKILL). Idempotent. */
  kill(cause: KillCause): void {
    if (this.#cause) return;
    this.#cause = cause;
    if (this.#pid !== null) this.#killing = this.#terminateTree(this.#pid);
  }

  /** Ends the whole tree: the group (SIGTERM, grace, SIGKILL), then every escaped descendant. */
  async #terminateTree(pgid: number): Promise<void> {
    const cg = this.#cgroup;
    if (cg) {
      // Escaped descendants get the SIGTERM and the grace too; then the kernel's kill takes the rest.
      cg.signal('SIGTERM');
      await terminateGroup(pgid, this.#opts.killGraceMs, () => cg.alive());
      await cg.kill();
      return;
    }
    await terminateGroup(pgid, this.#opts.killGraceMs);
    this.#killEscapedAll(pgid);
  }

  /** SIGKILLs escaped descendants until none is left (bounded: a forking one may race a round). */
  #killEscapedAll(pgid: number): void {
    if (!this.#tree) return;
    for (let round = 0; round < 5; round++) {
      if (killEscaped(pgid, this.#tree.runId, this.#tree.sinceTicks) === 0) return;
    }
  }

  /** Runs the process to the end and reports what happened. Never rejects. */
  async run(): Promise<RunResult> {
    const notStarted = await this.#checkCwd();
    if (notStarted) return this.#early('failed', notStarted);
    if (this.#cause) return this.#early(this.#cause.status, this.#cause.error);

    const runId = this.#spec.env.RAE_SCHED_RUN_ID;
    this.#cgroup = runId === undefined ? null : RunCgroup.forRun(runId, this.#opts.limits);
    // The child joins its group before the program runs: born in it (v1, a run without limits: our
    // thread enters the group for the fork), else through the joining wrapper (cgroup.ts).
    const inside = this.#cgroup?.enterForSpawn() ?? false;
    const wrapped = this.#cgroup !== null && !inside;
    // Through the wrapper a missing program would only show as its exit code 127: found first here.
    // Spawned directly, spawn itself says ENOENT / EACCES (the same message).
    const missing = wrapped ? programError(this.#spec.file, this.#spec.cwd, this.#spec.env.PATH) : null;
    if (missing) return this.#early('failed', this.#startError(missing), true);
    const { file, args } = wrapped ? this.#cgroup!.wrap(this.#spec.file, this.#spec.args) : this.#spec;
    let child: ChildProcess;
    // The run's clock starts at the fork, not when the 'spawn' event is seen: by then the program
    // has been running for a while (a loaded machine), and its durationMs would undercount it.
    const forkedAt = Date.now();
    try {
      child = spawn(file, args, {
        cwd: this.#spec.cwd ?? undefined,
        env: this.#spec.env,
        detached: true,
        stdio: this.#spec.reportFd ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      return this.#early('failed', this.#startError(err), true);
    } finally {
      if (inside) this.#cgroup!.leaveAfterSpawn();
    }
    const spawned = await new Promise<Error | null>((resolve) => {
      child.once('spawn', () => resolve(null));
      child.once('error', (err) => resolve(err));
    });
    if (spawned || child.pid === undefined) return this.#early('failed', this.#startError(spawned), true);
    try {
      return await this.#supervise(child, child.pid, forkedAt);
    } finally {
      await this.#cgroup?.remove({ empty: this.#emptied });
    }
  }

  async #supervise(child: ChildProcess, pid: number, startedAt: number): Promise<RunResult> {
    this.#pid = pid;
    const runId = this.#spec.env.RAE_SCHED_RUN_ID;
    const since = this.#cgroup ? null : startTicks(pid);
    if (runId !== undefined && since !== null) this.#tree = { runId, sinceTicks: since };
    this.#opts.onStarted(pid, startedAt);
    // A cancel that arrived while we were spawning: honour it now that there is a group to kill.
    if (this.#cause) this.#killing = this.#terminateTree(pid);

    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.stdout?.on('data', (c: Buffer) => this.#ring.write(c));
    child.stderr?.on('data', (c: Buffer) => this.#ring.write(c));
    const report = new OutputRing(REPORT_LIMIT);
    child.stdio[3]?.on('data', (c: Buffer) => report.write(c));
    child.on('error', () => {
      // Errors after spawn (e.g. a failed signal delivery) change nothing: exit/close still come.
    });

    // Sampling costs a /proc scan of every process on the machine plus pidusage per member, every
    // interval: only runs with a memory or CPU limit pay it (escaped descendants included,
    // src/workers/run/descendants.ts) (their peakMemoryBytes stays null otherwise).
    const { maxMemoryBytes, maxCpuPercent } = this.#opts.limits;
    // With a cgroup the kernel enforces both limits; only its OOM kills are watched, to end the run.
    const oomWatch = this.#cgroup && maxMemoryBytes !== undefined
      ? setInterval(() => this.#checkOom(), this.#opts.sampleIntervalMs) : null;
    const sampler = this.#cgroup || (maxMemoryBytes === undefined && maxCpuPercent === undefined)
      ? null
      : new UsageSampler(pid, this.#opts.sampleIntervalMs, (sample) => {
        const violation = this.#policy.observe(sample);
        if (violation) this.kill({ status: 'killed', error: violation.message });
      }, this.#tree ?? undefined);
    sampler?.start();
    const { timeoutMs } = this.#opts.limits;
    const timer =
      timeoutMs === undefined
        ? null
        : setTimeout(
            () => this.kill(timeoutCause(timeoutMs)),
            timeoutMs,
          );

    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve([child.exitCode, child.signalCode]);
      else child.once('exit', (code, sig) => resolve([code, sig]));
    });
    if (timer) clearTimeout(timer);
    if (oomWatch) clearInterval(oomWatch);
    sampler?.stop();
    this.#checkOom();
    // The run ends with its main process; whatever it left behind in its group (a `cmd &`) is killed
    // too, otherwise a leftover holding the pipes would keep the run open forever.
    if (this.#killing) await this.#killing;
    else if (this.#cgroup) {
      // Everything the run started is in its group (the process group too): one read answers.
      if (this.#cgroup.alive()) await this.#terminateTree(pid);
      else this.#emptied = true;
    } else if (groupAlive(pid)) await terminateGroup(pid, this.#opts.killGraceMs);
    // Descendants that left the group (setsid) end with the run too: nothing of it outlives it.
    if (this.#tree && (runTree(pid, this.#tree.runId, this.#tree.sinceTicks)?.escaped.length ?? 0) > 0) this.#killEscapedAll(pid);
    await this.#drain(child, closed);

    const finishedAt = Date.now();
    const { status, error } = this.#verdict(exitCode, signal, report.toString());
    return runResult({
      status, exitCode, signal, startedAt, finishedAt, error, output: this.#ring.toString(),
      // A run without limits is not measured (a pooled group's counters are not its own alone).
      peakMemoryBytes: !this.#cgroup ? this.#policy.peakMemoryBytes : this.#cgroup.pooledGroup ? null : this.#cgroup.usage().peakMemoryBytes,
    });
  }

  /** The kernel's OOM killer ended a process of the run's group: the run is over its memory limit (status `killed`, as without a cgroup). */
  #checkOom(): void {
    const cg = this.#cgroup;
    const max = this.#opts.limits.maxMemoryBytes;
    if (!cg || max === undefined || this.#cause || cg.usage().oomKills === 0) return;
    const mb = (max / 1024 / 1024).toFixed(1);
    this.kill({ status: 'killed', error: `exceeded the memory limit: the kernel's OOM killer stopped a process of the run's cgroup at maxMemoryBytes ${mb} MB` });
  }

  /** Waits for the pipes to close; a process that escaped the group (setsid) must not hold the run. */
  async #drain(child: ChildProcess, closed: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const capped = new Promise<void>((resolve) => (timer = setTimeout(resolve, PIPE_DRAIN_MS)));
    await Promise.race([closed, capped]);
    clearTimeout(timer);
    for (const stream of child.stdio) stream?.destroy();
  }

  #verdict(exitCode: number | null, signal: string | null, reportText: string): { status: RunOutcome; error: string | null } {
    if (this.#cause) return { status: this.#cause.status, error: this.#cause.error };
    const report = parseReport(reportText);
    if (exitCode === 0 && (!report || report.ok)) return { status: 'succeeded', error: null };
    if (report && !report.ok) return { status: 'failed', error: report.error ?? 'the job module failed' };
    if (signal) return { status: 'failed', error: `${this.#spec.label} was killed by signal ${signal}` };
    return { status: 'failed', error: `${this.#spec.label} exited with code ${exitCode}` };
  }

  async #checkCwd(): Promise<string | null> {
    const { cwd } = this.#spec;
    if (cwd === null) return null;
    try {
      const st = await fs.stat(cwd);
      return st.isDirectory() ? null : `cannot start: cwd '${cwd}' is not a directory`;
    } catch {
      return `cannot start: cwd '${cwd}' does not exist`;
    }
  }

  #startError(err: unknown): string {
    const e = err as NodeJS.ErrnoException | null;
    const why =
      e?.code === 'ENOENT' ? 'no such program' : e?.code === 'EACCES' ? 'permission denied' : e?.message ?? 'unknown error';
    return `cannot start ${this.#spec.label}: ${why}${e?.code ? ` (${e.code})` : ''}`;
  }

  #early(status: RunOutcome, error: string, made = false): RunResult {
    if (made) void this.#cgroup?.remove();
    return endedEarly(status, error);
  }
}

function parseReport(text: string): ModuleReport | null {
  const line = text.trim().split('\n').pop();
  if (!line) return null;
  try {
    const parsed = JSON.parse(line) as ModuleReport;
    return typeof parsed === 'object' && parsed !== null && typeof parsed.ok === 'boolean' ? parsed : null;
  } catch {
    return null;
  }
}
