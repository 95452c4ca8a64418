/** System commands: daemon, health, stats, metrics, events, backup, restore. */
import type { Command } from 'commander';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { Health } from '../../api';
import { ValidationError } from '../../errors';
import { parseDuration, parseSize } from '../../model/duration';
import { assertMaxDepth } from '../../model/depth';
import type { SchedulerEvent } from '../../model/events';
import { daemonAnswers } from '../client';
import { type CliContext, type CommonOptions, withCommonOptions } from '../context';
import { type HttpFlags, httpOptionsOf } from './api';
import { formatHealth, formatStats } from '../format';
import { dataDirPaths } from '../paths';
import { parsePositiveInt } from '../job-spec';

/** Registers the system commands. */
export function registerSystemCommands(program: Command, ctx: CliContext): void {
  withCommonOptions(program.command('daemon')
    .description('run the scheduler in the foreground until SIGINT/SIGTERM, then shut down gracefully')
    .option('--grace <dur>', 'time running jobs get to finish at shutdown (default 10s)')
    .option('--http <host:port>', 'also serve the API and the dashboard on TCP (loopback: 127.0.0.1:7070); every request needs a token')
    .option('--tls-cert <file>', 'PEM certificate: serve --http as HTTPS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--backup-every <dur>', 'take a hot backup of the store this often, into DIR/backups (e.g. 6h)')
    .option('--backup-keep <n>', 'how many automatic backups to keep (default 7)')
    .option('--min-free-disk <size>', 'health is unhealthy while the store\'s file system has less free space (default 100MB; 0: no floor)'))
    .action(async (opts: CommonOptions & { grace?: string; backupEvery?: string; backupKeep?: string; minFreeDisk?: string } & HttpFlags) => {
      const graceMs = opts.grace === undefined ? 10_000 : parseDuration(opts.grace, '--grace');
      const http = httpOptionsOf(opts);
      if (opts.backupKeep !== undefined && opts.backupEvery === undefined) {
        throw new ValidationError('--backup-keep: only applies with --backup-every DUR', '--backup-keep');
      }
      const backupEveryMs = opts.backupEvery === undefined ? undefined : parseDuration(opts.backupEvery, '--backup-every');
      if (backupEveryMs !== undefined && backupEveryMs < 1000) {
        throw new ValidationError(`--backup-every: '${opts.backupEvery}' is shorter than 1s`, '--backup-every');
      }
      const backupKeep = opts.backupKeep === undefined ? undefined : parsePositiveInt(opts.backupKeep, '--backup-keep');
      const minFreeDiskBytes = opts.minFreeDisk === undefined ? undefined : parseSize(opts.minFreeDisk, '--min-free-disk');
      // Loaded here: the daemon's server, logger and schemas cost every other command start-up time.
      const { runDaemon } = await import('../daemon');
      ctx.exitCode = await runDaemon({ dataDir: ctx.dataDir(opts), graceMs, backupEveryMs, backupKeep, minFreeDiskBytes, ...(http ? { http } : {}) });
    });

  withCommonOptions(program.command('health').description('each component\'s health; exit 0 when all are healthy'))
    .action(async (opts: CommonOptions) => {
      const { socket, store } = dataDirPaths(ctx.dataDir(opts));
      // Health is the daemon's: a store at rest has no components running to report on, only what
      // its records tell (an `--after` upstream gone); no store at all is not created for this.
      const health: Health = await daemonAnswers(socket) || existsSync(store)
        ? await ctx.withScheduler(opts, (s) => s.health())
        : { healthy: false, components: { daemon: { healthy: false, detail: `no daemon answers on ${socket}` } } };
      ctx.print(opts, health, () => formatHealth(health));
      ctx.exitCode = health.healthy ? 0 : 1;
    });

  withCommonOptions(program.command('doctor')
    .description('check the data directory, lock, socket, store, free space and backups; exit 0 when nothing failed'))
    .action(async (opts: CommonOptions) => {
      // Loaded here: the doctor's checks (cgroups, /proc, hot backup) cost every other command start-up time.
      const { formatDoctor, runDoctor } = await import('../doctor');
      const report = await runDoctor(ctx.dataDir(opts));
      ctx.print(opts, report, () => formatDoctor(report));
      ctx.exitCode = report.healthy ? 0 : 1;
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

/** Largest backup file `restore` reads (the control API's body limit for a restore is the same). */
export const MAX_BACKUP_FILE_BYTES = 256 * 1024 * 1024;

async function readBackupFile(path: string, shown: string): Promise<unknown> {
  let text: string;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new ValidationError(`FILE: '${shown}' is not a regular file`, 'FILE');
    if (st.size > MAX_BACKUP_FILE_BYTES) {
      throw new ValidationError(
        `FILE: '${shown}' is too large (${(st.size / 1024 / 1024).toFixed(0)} MiB; a backup file may be at most ${MAX_BACKUP_FILE_BYTES / 1024 / 1024} MiB)`, 'FILE');
    }
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (e instanceof ValidationError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new ValidationError(`FILE: cannot read '${shown}' (${why})`, 'FILE');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text) as unknown;
  } catch (e) {
    // JSON.parse quotes the text around the fault, newlines included: keep the error on one line.
    const why = (e as Error).message.replace(/\s*\n\s*/g, ' ').slice(0, 300);
    throw new ValidationError(`FILE: '${shown}' is not JSON (${why})`, 'FILE', { cause: e });
  }
  assertMaxDepth(doc, 'FILE', `'${shown}'`);
  return doc;
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
      case 'scheduler.failed':
        return ev.reason;
      case 'clock.jumped':
        return `by ${ev.deltaMs}ms`;
      default:
        return '';
    }
  })();
  return `${ev.at}  ${ev.type.padEnd(15)} ${what}`.trimEnd();
}
