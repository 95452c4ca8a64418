/** The scheduler's lifecycle events as structured log lines. */
import type { Logger } from './model/logger';
import type { SchedulerEvent } from './model/events';
import type { Run } from './model/run';
import type { Clock, TimerHandle } from './runtime/clock';

/**
 * Run lines written one by one per window, per kind (succeeded / not succeeded); past that they are
 * folded into one line per window. A line costs the main thread ~5-10 µs (pino builds it there):
 * at W1's 20,000+ runs/s a line per run cost 14-17% of the throughput (docs/benchmarks.md), while a
 * person's machine running a few jobs a minute sees every run, as before.
 */
export const RUN_LINES_PER_WINDOW = 50;
/** The window of {@link RUN_LINES_PER_WINDOW}, ms. */
export const RUN_LINE_WINDOW_MS = 1000;

/**
 * The scheduler's log of its events: one structured line per lifecycle event worth an operator's
 * attention, except that `run.finished` lines past {@link RUN_LINES_PER_WINDOW} in a second are
 * counted and written as one `run.finished.folded` line at the window's end (warn when any folded
 * run did not succeed), so a burst costs a line per second, not a line per run. The runs
 * themselves are all in the store (`rae-sched history`); failures keep their own budget so a
 * burst of successes never hides the first failures.
 */
export class EventLog {
  #windowEnd = -Infinity;
  #ok = 0;
  #bad = 0;
  #folded: Record<string, number> = {};
  #foldedCount = 0;
  #flushTimer: TimerHandle | null = null;

  constructor(private readonly logger: Logger, private readonly clock: Clock) {}

  /** Writes the line for one event (or folds it). */
  write(e: SchedulerEvent): void {
    if (e.type !== 'run.finished') return logEvent(this.logger, e);
    const now = this.clock.now();
    if (now >= this.#windowEnd || now < this.#windowEnd - RUN_LINE_WINDOW_MS) this.#open(now);
    const ok = e.run.status === 'succeeded';
    if (ok ? this.#ok++ < RUN_LINES_PER_WINDOW : this.#bad++ < RUN_LINES_PER_WINDOW) return logRun(this.logger, e.run);
    this.#folded[e.run.status] = (this.#folded[e.run.status] ?? 0) + 1;
    this.#foldedCount++;
    this.#flushTimer ??= this.clock.setTimeout(() => { this.#flushTimer = null; this.flush(); }, Math.max(0, this.#windowEnd - now));
  }

  /** Writes the folded line of the window now (at its end, and at shutdown). */
  flush(): void {
    if (this.#flushTimer !== null) { this.clock.clearTimeout(this.#flushTimer); this.#flushTimer = null; }
    if (this.#foldedCount === 0) return;
    const byStatus = this.#folded;
    const line = { folded: this.#foldedCount, byStatus, windowMs: RUN_LINE_WINDOW_MS, linesPerWindow: RUN_LINES_PER_WINDOW };
    this.#folded = {};
    this.#foldedCount = 0;
    if (Object.keys(byStatus).some((s) => s !== 'succeeded')) this.logger.warn(line, 'run.finished.folded');
    else this.logger.info(line, 'run.finished.folded');
  }

  /** A new window: what was folded in the last one is written first. */
  #open(now: number): void {
    this.flush();
    this.#windowEnd = now + RUN_LINE_WINDOW_MS;
    this.#ok = 0;
    this.#bad = 0;
  }
}

/** The line of one finished run: info when it succeeded, warn otherwise. */
function logRun(logger: Logger, r: Run): void {
  const line = { jobId: r.jobId, runId: r.id, attempt: r.attempt, trigger: r.trigger, status: r.status,
    exitCode: r.exitCode, durationMs: r.durationMs, error: r.error };
  if (r.status === 'succeeded') logger.info(line, 'run.finished');
  else logger.warn(line, 'run.finished');
}

/** One structured log line per lifecycle event worth an operator's attention (no folding). */
export function logEvent(logger: Logger, e: SchedulerEvent): void {
  switch (e.type) {
    case 'job.added':
    case 'job.updated':
      logger.info({ jobId: e.job.id, name: e.job.name, state: e.job.state }, e.type);
      break;
    case 'job.removed':
      logger.info({ jobId: e.jobId, name: e.name }, e.type);
      break;
    case 'run.finished':
      logRun(logger, e.run);
      break;
    case 'clock.jumped':
      logger.warn({ deltaMs: e.deltaMs }, e.type);
      break;
    case 'scheduler.started':
    case 'scheduler.stopping':
      logger.info({}, e.type);
      break;
    default:
      break;
  }
}
