/**
 * An in-memory Scheduler for testing the HTTP layer alone (test/http/api.test.ts) (the real scheduler is covered
 * by the integration tests through the binary). It keeps jobs and runs in maps and emits events.
 */
import { Subject, defer } from 'rxjs';
import type { BackupDocument, Health, JobPage, ListJobsOptions, Scheduler, Stats, WhyReport } from '../../src/api';
import { decodeCursor, encodeCursor } from '../../src/reads/cursor';
import { ConflictError, NotFoundError, ValidationError } from '../../src/errors';
import type { Job, JobSpec } from '../../src/model/job';
import type { Run } from '../../src/model/run';
import type { SchedulerEvent } from '../../src/model/events';

export class MemoryScheduler implements Scheduler {
  readonly jobs = new Map<string, Job>();
  readonly runs = new Map<string, Run>();
  readonly #events = new Subject<SchedulerEvent>();
  readonly #waiters = new Map<string, (r: Run) => void>();
  /** Emits when someone subscribes to events$ (the server opened a stream). */
  readonly subscribed = new Subject<void>();
  /** Emits the run id when someone starts waiting for it. */
  readonly waitRequested = new Subject<string>();
  readonly events$ = defer(() => {
    queueMicrotask(() => this.subscribed.next());
    return this.#events;
  });
  shutdownCalls: Array<{ graceMs?: number } | undefined> = [];
  #n = 0;

  emit(ev: SchedulerEvent): void {
    this.#events.next(ev);
  }

  async addJob(spec: JobSpec): Promise<Job> {
    if (spec.schedule === 'every banana') throw new ValidationError("schedule: 'banana' is not a unit", 'schedule');
    if ([...this.jobs.values()].some((j) => j.name === spec.name)) throw new ConflictError(`job name '${spec.name}' is taken`);
    const now = new Date(0).toISOString();
    const job: Job = {
      id: `job_${String(++this.#n).padStart(6, '0')}`, name: spec.name, schedule: spec.schedule, timezone: spec.timezone ?? null,
      command: spec.command ?? null, module: spec.module ?? null, enabled: spec.enabled ?? true, priority: spec.priority ?? 0,
      retry: { maxRetries: spec.retry?.maxRetries ?? 0, backoffMs: spec.retry?.backoffMs ?? 1000 }, limits: spec.limits ?? {},
      overlap: spec.overlap ?? 'skip', catchUp: spec.catchUp ?? 'once', cwd: spec.cwd ?? null, env: spec.env ?? {},
      triggers: spec.triggers ?? [], jitterMs: spec.jitterMs ?? 0, createdAt: now, updatedAt: now, completedAt: null,
      nextRunAt: null, lastRun: null, state: 'scheduled',
    };
    this.jobs.set(job.id, job);
    this.emit({ type: 'job.added', at: now, job });
    return job;
  }
  #find(idOrName: string): Job {
    const job = this.jobs.get(idOrName) ?? [...this.jobs.values()].find((j) => j.name === idOrName);
    if (!job) throw new NotFoundError(`no job '${idOrName}'`);
    return job;
  }
  async removeJob(idOrName: string): Promise<void> {
    this.jobs.delete(this.#find(idOrName).id);
  }
  async getJob(idOrName: string): Promise<Job> {
    return this.#find(idOrName);
  }
  listJobs(): Promise<Job[]>;
  listJobs(opts: ListJobsOptions): Promise<JobPage>;
  async listJobs(opts?: ListJobsOptions): Promise<Job[] | JobPage> {
    const all = [...this.jobs.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    if (opts === undefined) return all;
    const after = opts.after === undefined ? undefined : decodeCursor(opts.after);
    const rest = after === undefined ? all : all.filter((j) => j.id > after);
    const jobs = rest.slice(0, opts.limit ?? 100);
    return { jobs, next: rest.length > jobs.length ? encodeCursor(jobs[jobs.length - 1]!.id) : null };
  }
  async pauseJob(idOrName: string): Promise<Job> {
    const job = this.#find(idOrName);
    job.state = 'paused';
    return job;
  }
  async resumeJob(idOrName: string): Promise<Job> {
    const job = this.#find(idOrName);
    job.state = 'scheduled';
    return job;
  }
  async runNow(idOrName: string): Promise<Run> {
    const job = this.#find(idOrName);
    const run: Run = {
      id: `run_${String(++this.#n).padStart(6, '0')}`, jobId: job.id, attempt: 1, trigger: 'manual', status: 'queued', exitCode: null, signal: null,
      scheduledAt: new Date(0).toISOString(), startedAt: null, finishedAt: null, durationMs: null, peakMemoryBytes: null,
      error: null, output: '',
    };
    this.runs.set(run.id, run);
    return run;
  }
  /** Finishes a run: resolves whoever waits on it. */
  finish(runId: string, status: Run['status']): void {
    const run = { ...this.runs.get(runId)!, status, exitCode: status === 'succeeded' ? 0 : 1 };
    this.runs.set(runId, run);
    this.#waiters.get(runId)?.(run);
  }
  waitForRun(runId: string): Promise<Run> {
    const run = this.runs.get(runId);
    if (!run) return Promise.reject(new NotFoundError(`no run '${runId}'`));
    return new Promise((resolve) => {
      this.#waiters.set(runId, resolve);
      this.waitRequested.next(runId);
    });
  }
  lastHistoryLimit: number | undefined;
  async history(idOrName: string, opts?: { limit?: number }): Promise<Run[]> {
    const job = this.#find(idOrName);
    this.lastHistoryLimit = opts?.limit;
    // Newest first, at most `limit` (20 by default), as the real scheduler answers.
    return [...this.runs.values()].filter((r) => r.jobId === job.id).reverse().slice(0, opts?.limit ?? 20);
  }
  async why(idOrName: string): Promise<WhyReport> {
    const job = this.#find(idOrName);
    return { job, slots: [], nextRunAt: null, blockers: ['paused'], triggers: [] };
  }
  async health(): Promise<Health> {
    return { healthy: true, components: { queue: { healthy: true } } };
  }
  async stats(): Promise<Stats> {
    return {
      jobs: { total: this.jobs.size, enabled: this.jobs.size, paused: 0, done: 0 },
      runs: { total: 0, succeeded: 0, failed: 0, timeout: 0, killed: 0, interrupted: 0, skipped: 0, successRate: null },
      durationMs: { p50: null, p90: null, p99: null, max: null }, queue: { depth: 0, running: 0, scheduled: 0 },
      restarts: {}, uptimeMs: 1,
    };
  }
  async metrics(): Promise<string> {
    return '# TYPE rae_jobs gauge\nrae_jobs 1\n';
  }
  async backup(): Promise<BackupDocument> {
    return { format: 'rae-sched-backup', version: 1, createdAt: new Date(0).toISOString(), jobs: [...this.jobs.values()], runs: [], slots: [] };
  }
  async restore(doc: unknown): Promise<{ jobs: number; runs: number }> {
    if ((doc as BackupDocument).format !== 'rae-sched-backup') throw new ValidationError('format: not a rae-sched backup', 'format');
    return { jobs: (doc as BackupDocument).jobs.length, runs: 0 };
  }
  async shutdown(opts?: { graceMs?: number }): Promise<void> {
    this.shutdownCalls.push(opts);
    this.#events.complete();
  }
}
