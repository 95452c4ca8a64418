/** The scheduler's lifecycle events as structured log lines. */
import type { Logger } from './api';
import type { SchedulerEvent } from './model/events';

/** One structured log line per lifecycle event worth an operator's attention. */
export function logEvent(logger: Logger, e: SchedulerEvent): void {
  switch (e.type) {
    case 'job.added':
    case 'job.updated':
      logger.info({ jobId: e.job.id, name: e.job.name, state: e.job.state }, e.type);
      break;
    case 'job.removed':
      logger.info({ jobId: e.jobId, name: e.name }, e.type);
      break;
    case 'run.finished': {
      const r = e.run;
      const line = { jobId: r.jobId, runId: r.id, attempt: r.attempt, trigger: r.trigger, status: r.status,
        exitCode: r.exitCode, durationMs: r.durationMs, error: r.error };
      if (r.status === 'succeeded') logger.info(line, e.type);
      else logger.warn(line, e.type);
      break;
    }
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
