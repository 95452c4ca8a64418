/** System commands: daemon, health, stats, metrics, events, backup, restore. */
import type { Command } from 'commander';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Health } from '../../api';
import { ValidationError } from '../../errors';
import { parseDuration } from '../../model/duration';
import type { SchedulerEvent } from '../../model/events';
import { daemonAnswers } from '../client';
import { type CliContext, type CommonOptions, withCommonOptions } from '../context';
import { formatHealth, formatStats } from '../format';
import { dataDirPaths } from '../paths';

/** Registers the system commands. */
export function registerSystemCommands(program: Command, ctx: CliContext): void {
  withCommonOptions(program.command('daemon')
    .description('run the scheduler in the foreground until SIGINT/SIGTERM, then shut down gracefully')
    .option('--grace <dur>', 'time running jobs get to finish at shutdown (default 10s)'))
    .action(async (opts: CommonOptions & { grace?: string }) => {
      const graceMs = opts.grace === undefined ? 10_000 : parseDuration(opts.grace, '--grace');
      // Loaded here: the daemon's server, logger and schemas cost every other command start-up time.
      const { runDaemon } = await import('../daemon');
      ctx.exitCode = await runDaemon({ dataDir: ctx.dataDir(opts), graceMs });
    });

  withCommonOptions(program.command('health').description('each component\'s health; exit 0 when all are healthy'))
    .action(async (opts: CommonOptions) => {
      const { socket } = dataDirPaths(ctx.dataDir(opts));
      // Health is the daemon's: a store at rest has no components running to report on.
      const health: Health = await daemonAnswers(socket)
        ? await ctx.withScheduler(opts, (s) => s.health())
        : { healthy: false, components: { daemon: { healthy: false, detail: `no daemon answers on ${socket}` } } };
      ctx.print(opts, health, () => formatHealth(health));
      ctx.exitCode = health.healthy ? 0 : 1;
    });

  withCommonOptions(program.command('stats').description('counts, success rate, duration percentiles, queue depth, restarts'))
    .action(async (opts: CommonOptions) => {
      const { stats, remote } = await ctx.withStore(opts, async (s, remote) => ({ stats: await s.stats(), remote }));
      ctx.print(opts, stats, () => formatStats(stats, remote));
    });

  withCommonOptions(program.command('metrics').description('Prometheus text exposition (--json: {"metrics": text})'))
    .action(async (opts: CommonOptions) => {
      const text = await ctx.withStore(opts, (s) => s.metrics());
      if (opts.json) ctx.print(opts, { metrics: text }, () => text);
      else ctx.io.stdout(text.endsWith('\n') ? text : text + '\n');
    });

  withCommonOptions(program.command('events').description('stream lifecycle events until interrupted (--json: NDJSON)'))
    .action(async (opts: CommonOptions) => {
      await ctx.withScheduler(opts, (s) => new Promise<void>((resolveStream, reject) => {
        const stop = (): void => {
          sub.unsubscribe();
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolveStream();
        };
        // People read names: each job id is looked up once (in event order: lines stay in order).
        const names = new Map<string, Promise<string | undefined>>();
        const nameOf = (id: string): Promise<string | undefined> => {
          let n = names.get(id);
          if (n === undefined) {
            n = s.getJob(id).then((j) => j.name, () => undefined);
            names.set(id, n);
          }
          return n;
        };
        let printed = Promise.resolve();
        const sub = s.events$.subscribe({
          next: (ev) => {
            if (opts.json) return ctx.io.stdout(JSON.stringify(ev) + '\n');
            if (ev.type === 'job.added' || ev.type === 'job.updated') names.set(ev.job.id, Promise.resolve(ev.job.name));
            const id = jobIdOf(ev);
            printed = printed.then(async () => {
              ctx.io.stdout(describeEvent(ev, id === undefined ? undefined : await nameOf(id)) + '\n');
            });
          },
          complete: stop,
          error: (e: unknown) => {
            stop();
            reject(e);
          },
        });
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      }), 'events');
    });

  withCommonOptions(program.command('backup').description('export the whole store to one JSON file').argument('<file>', 'output file'))
    .action(async (file: string, opts: CommonOptions) => {
      const doc = await ctx.withStore(opts, (s) => s.backup());
      const path = resolve(ctx.cwd, file);
      // Write then rename: an interrupted backup never leaves a truncated file under the real name.
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(doc, null, 2) + '\n', { mode: 0o600 });
      await rename(tmp, path);
      const summary = { file: path, jobs: doc.jobs.length, runs: doc.runs.length, slots: doc.slots.length };
      ctx.print(opts, summary, () => `backed up ${summary.jobs} jobs, ${summary.runs} runs to ${path}`);
    });

  withCommonOptions(program.command('restore')
    .description('import a backup file; validates all of it first and changes nothing if any part is bad')
    .argument('<file>', 'a file written by `rae-sched backup`'))
    .action(async (file: string, opts: CommonOptions) => {
      const doc = await readBackupFile(resolve(ctx.cwd, file), file);
      const result = await ctx.withScheduler(opts, (s) => s.restore(doc));
      ctx.print(opts, result, () => `restored ${result.jobs} jobs, ${result.runs} runs from ${file}`);
    });
}

async function readBackupFile(path: string, shown: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ValidationError(`FILE: cannot read '${shown}' (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'FILE');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    // JSON.parse quotes the text around the fault, newlines included: keep the error on one line.
    const why = (e as Error).message.replace(/\s*\n\s*/g, ' ').slice(0, 300);
    throw new ValidationError(`FILE: '${shown}' is not JSON (${why})`, 'FILE', { cause: e });
  }
}

/** The job an event is about, if any. */
function jobIdOf(ev: SchedulerEvent): string | undefined {
  switch (ev.type) {
    case 'run.queued':
    case 'run.started':
    case 'run.finished':
      return ev.run.jobId;
    case 'slot.recorded':
      return ev.slot.jobId;
    default:
      return undefined;
  }
}

/** One line per event for people; `name` is the job's name where the event carries only its id. */
export function describeEvent(ev: SchedulerEvent, name?: string): string {
  const job = (id: string): string => (name !== undefined ? `${name} (${id})` : `job ${id}`);
  const what = ((): string => {
    switch (ev.type) {
      case 'job.added':
      case 'job.updated':
        return `${ev.job.name} (${ev.job.id})`;
      case 'job.removed':
        return `${ev.name} (${ev.jobId})`;
      case 'run.queued':
      case 'run.started':
        return `${ev.run.id} ${job(ev.run.jobId)} (${ev.run.trigger})`;
      case 'run.finished':
        return `${ev.run.id} ${job(ev.run.jobId)} ${ev.run.status}${ev.run.exitCode !== null ? ` exit ${ev.run.exitCode}` : ''}`;
      case 'slot.recorded':
        return `${job(ev.slot.jobId)} slot ${ev.slot.at} ${ev.slot.outcome}${ev.slot.reason ? `: ${ev.slot.reason}` : ''}`;
      case 'actor.restarted':
      case 'actor.failed':
        return `${ev.actor}: ${ev.reason}`;
      case 'clock.jumped':
        return `by ${ev.deltaMs}ms`;
      default:
        return '';
    }
  })();
  return `${ev.at}  ${ev.type.padEnd(15)} ${what}`.trimEnd();
}
