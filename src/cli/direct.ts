/**
 * The CLI's Scheduler when no daemon runs: the store opened directly on this thread, no actor
 * system (no worker threads, no pool, no mailboxes). Reads go through the same {@link ReadView} the
 * daemon uses; `add` runs the same checks as the scheduler actor ({@link prepareNewJob}, with the
 * parser's pure functions in-process). What needs the engine itself — `run` (executes in the
 * foreground), `restore` (reloads the engine), `metrics`, `events`, `health` — boots the whole
 * system in offline mode on first use, as every command did before.
 */
import { mkdirSync } from 'node:fs';
import type { Observable } from 'rxjs';
import { loadRxjs } from './lazy';
import type { BackupDocument, Health, JobPage, ListJobsOptions, Scheduler, Stats, WhyReport } from '../api';
import type { Job, JobRow, JobSpec } from '../model/job';
import type { Run } from '../model/run';
import type { SchedulerEvent } from '../model/events';
import { SystemClock, type Clock } from '../runtime/clock';
import { Store } from '../actors/persistence/store';
import { percentilesOf, runsOf } from '../actors/persistence/rollup';
import type { ScheduleMath } from '../actors/parser/schedule';
import { iso } from '../actors/scheduler/runs';
import { ReadView } from '../reads/read-view';
import { danglingComponent, danglingFromHeads } from '../reads/trigger-status';
import { dataDirPaths } from './paths';

const SILENT = { debug() {}, info() {}, warn() {}, error() {} };

/** The store of a data directory, driven from this process. */
export class DirectScheduler implements Scheduler {
  readonly #dataDir: string;
  readonly #clock: Clock;
  #mathOnce: ScheduleMath | null = null;
  #store: Store;
  #reads: ReadView;
  /** The offline actor system, once a call needed it (the store above is closed then). */
  #system: Promise<Scheduler> | null = null;

  private constructor(dataDir: string, store: Store, clock: Clock) {
    this.#dataDir = dataDir;
    this.#store = store;
    this.#clock = clock;
    this.#reads = new ReadView({ store, clock, mode: 'offline', maxConcurrent: 4, logger: SILENT });
  }

  /** Opens (creating if needed) the store of `dataDir`. */
  static async open(dataDir: string, clock: Clock = new SystemClock()): Promise<DirectScheduler> {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 }); // private: the store holds commands and env values
    return new DirectScheduler(dataDir, await Store.open({ dataDir }), clock);
  }

  /** Schedule maths, loaded on first use (reads such as `list` need no cron library: read-view.ts). */
  get #math(): ScheduleMath {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.#mathOnce ??= new (require('../actors/parser/schedule') as typeof import('../actors/parser/schedule')).ScheduleMath();
    return this.#mathOnce;
  }

  async addJob(spec: JobSpec): Promise<Job> {
    if (this.#system !== null) return (await this.#system).addJob(spec);
    // Loaded here: `list` and `status` never pay for the validation schemas.
    const { prepareNewJob } = await import('../actors/scheduler/new-job');
    const store = this.#store;
    const { job } = await prepareNewJob(spec, {
      now: this.#clock.now(),
      idOf: (ref) => (store.getJob(ref) ?? store.getJobByName(ref))?.id,
      hasName: (name) => store.getJobByName(name) !== null,
      jobOf: async (id) => store.getJob(id) ?? undefined,
      parse: async (text, tz, now) => this.#math.parse(text, { tz, now }),
      // No daemon checks the condition as it arms it: refuse a signal this machine lacks here.
      checkCondition: async (text) => {
        const { parseCondition, refuseUnavailable, SystemSignals } = await import('../actors/triggers');
        await refuseUnavailable(parseCondition(text), new SystemSignals());
      },
    });
    await store.insertJob(job);
    await store.putScheduleState({ jobId: job.id, lastSlotAt: null, nextRunAt: null, anchorAt: job.createdAt });
    return this.#reads.getJob(job.id);
  }

  async removeJob(idOrName: string): Promise<void> {
    if (this.#system !== null) return (await this.#system).removeJob(idOrName);
    await this.#store.deleteJob(this.#reads.find(idOrName).id);
  }

  async getJob(idOrName: string): Promise<Job> {
    if (this.#system !== null) return (await this.#system).getJob(idOrName);
    return this.#reads.getJob(idOrName);
  }

  listJobs(): Promise<Job[]>;
  listJobs(opts: ListJobsOptions): Promise<JobPage>;
  async listJobs(opts?: ListJobsOptions): Promise<Job[] | JobPage> {
    if (this.#system !== null) {
      const s = await this.#system;
      return opts === undefined ? s.listJobs() : s.listJobs(opts);
    }
    return opts === undefined ? this.#reads.listJobs() : this.#reads.listPage(opts);
  }

  /**
   * Every job (or one page, paged as {@link listJobs}) with only what `list`'s table shows: no job
   * spec decoded (read-view.ts `listRows`). `--json` prints whole jobs: {@link listJobs}.
   */
  listRows(): Promise<JobRow[]>;
  listRows(opts: ListJobsOptions): Promise<{ jobs: JobRow[]; next: string | null }>;
  async listRows(opts?: ListJobsOptions): Promise<JobRow[] | { jobs: JobRow[]; next: string | null }> {
    if (this.#system !== null) return opts === undefined ? this.listJobs() : this.listJobs(opts);
    return opts === undefined ? this.#reads.listRows() : this.#reads.listRowPage(opts);
  }

  pauseJob(idOrName: string): Promise<Job> {
    return this.#setEnabled(idOrName, false);
  }

  resumeJob(idOrName: string): Promise<Job> {
    return this.#setEnabled(idOrName, true);
  }

  /**
   * Pause or resume. Resuming accounts for the slots while paused up to now (they were not missed,
   * as a running scheduler's resume does), so the next daemon start does not catch them up.
   */
  async #setEnabled(idOrName: string, enabled: boolean): Promise<Job> {
    if (this.#system !== null) {
      const s = await this.#system;
      return enabled ? s.resumeJob(idOrName) : s.pauseJob(idOrName);
    }
    const job = this.#reads.find(idOrName);
    if (job.enabled === enabled) return this.#reads.getJob(job.id);
    const now = this.#clock.now();
    await this.#store.updateJob({ ...job, enabled, updatedAt: iso(now) });
    if (enabled && job.completedAt === null) {
      const state = this.#store.getScheduleState(job.id);
      const interval = this.#math.parse(job.schedule, { tz: job.timezone, now }).kind === 'interval';
      await this.#store.putScheduleState({
        jobId: job.id, lastSlotAt: iso(now), nextRunAt: null,
        anchorAt: interval ? iso(now) : state?.anchorAt ?? job.createdAt,
      });
    }
    return this.#reads.getJob(job.id);
  }

  async history(idOrName: string, opts?: { limit?: number }): Promise<Run[]> {
    if (this.#system !== null) return (await this.#system).history(idOrName, opts);
    return this.#reads.history(idOrName, opts?.limit);
  }

  async why(idOrName: string): Promise<WhyReport> {
    if (this.#system !== null) return (await this.#system).why(idOrName);
    return this.#reads.why(idOrName);
  }

  /** Stored statistics; nothing is queued or running without a daemon. */
  async stats(): Promise<Stats> {
    if (this.#system !== null) return (await this.#system).stats();
    const rollup = this.#reads.rollup();
    return {
      jobs: this.#reads.jobCounts(),
      runs: runsOf(rollup.counts),
      durationMs: percentilesOf(rollup),
      queue: { depth: 0, running: 0, scheduled: 0 },
      restarts: {},
      uptimeMs: 0,
    };
  }

  async backup(): Promise<BackupDocument> {
    if (this.#system !== null) return (await this.#system).backup();
    return this.#store.backup(iso(this.#clock.now()));
  }

  async runNow(idOrName: string): Promise<Run> {
    return (await this.#boot()).runNow(idOrName);
  }
  async waitForRun(runId: string): Promise<Run> {
    return (await this.#boot()).waitForRun(runId);
  }
  /** Waits until the booted offline system has nothing left to do (a foreground `run`'s retries and dependents). */
  async idle(): Promise<void> {
    if (this.#system === null) return;
    await (await this.#system).idle?.();
  }
  async restore(doc: unknown): Promise<{ jobs: number; runs: number }> {
    return (await this.#boot()).restore(doc);
  }
  /**
   * Without a daemon: the daemon is down (exit 1), and what the store alone can tell — `--after`
   * upstreams that no longer exist (the `dependencies` component, degraded).
   */
  async health(): Promise<Health> {
    if (this.#system !== null) return (await this.#system).health();
    const components: Health['components'] = {
      daemon: { healthy: false, detail: `no daemon answers on ${dataDirPaths(this.#dataDir).socket}` },
    };
    const dependencies = danglingComponent(danglingFromHeads(this.#store.listHeads()));
    if (dependencies !== null) components.dependencies = dependencies;
    return { healthy: false, components };
  }
  async metrics(): Promise<string> {
    return (await this.#boot()).metrics();
  }
  get events$(): Observable<SchedulerEvent> {
    const { defer, from, switchMap } = loadRxjs();
    return defer(() => from(this.#boot())).pipe(switchMap((s) => s.events$));
  }

  async shutdown(): Promise<void> {
    if (this.#system !== null) return (await this.#system).shutdown({ graceMs: 0 });
    await this.#store.close();
  }

  /** The offline actor system, started once (this store is closed first: the system opens its own). */
  #boot(): Promise<Scheduler> {
    this.#system ??= (async () => {
      await this.#store.close();
      const { createScheduler } = await import('../scheduler');
      return createScheduler({ dataDir: this.#dataDir, mode: 'offline', clock: this.#clock });
    })();
    return this.#system;
  }
}
