/** Job commands: add, list, status, remove, pause, resume, run, history, why. */
import { Option, type Command } from 'commander';
import { stat } from 'node:fs/promises';
import { ValidationError } from '../../errors';
import { CATCH_UP_POLICIES, OVERLAP_POLICIES, type JobRow, type JobSpec } from '../../model/job';
import type { AddOptions } from '../job-spec';
import { buildJobSpec, parsePositiveInt } from '../job-spec';
import { ADD_NAME_PLACEHOLDER, type CliContext, type CommonOptions, withCommonOptions } from '../context';
import { formatJob, formatJobs, formatRun, formatRuns, formatWhy, relativeTime } from '../format';
import type { ListJobsOptions, Scheduler } from '../../api';
import type { Run } from '../../model/run';
import { checkZone } from './next';
import { checkPageLimit, decodeCursor, DEFAULT_PAGE, MAX_PAGE } from '../../reads/cursor';

/** A Scheduler that reads `list`'s table rows itself (the offline one, direct.ts). */
interface RowLister {
  listRows(): Promise<JobRow[]>;
  listRows(opts: ListJobsOptions): Promise<{ jobs: JobRow[]; next: string | null }>;
}
const isRowLister = (s: Scheduler): s is Scheduler & RowLister => typeof (s as Partial<RowLister>).listRows === 'function';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** What a path must be for the job to be able to run at all. */
async function expectPath(path: string, field: string, kind: 'file' | 'directory'): Promise<void> {
  const found = await stat(path).catch(() => undefined);
  const ok = kind === 'file' ? found?.isFile() : found?.isDirectory();
  if (ok !== true) throw new ValidationError(`${field}: '${path}' is not ${kind === 'file' ? 'a file' : 'a directory'}`, field);
}

/**
 * Refuses a `--module` or `--cwd` that does not exist: otherwise the job is stored and every run of it
 * fails later, far from the typo. Checked here rather than in the pure `buildJobSpec`, and on the
 * caller's side, where the paths were typed (the daemon shares the machine through its Unix socket).
 */
async function checkPaths(spec: JobSpec): Promise<void> {
  if (spec.module !== undefined) await expectPath(spec.module, '--module', 'file');
  if (spec.cwd !== undefined) await expectPath(spec.cwd, '--cwd', 'directory');
}

/**
 * `--after a:exploded`: a name may hold ':', so the scheduler looked for a job named `a:exploded`.
 * When there is none and the part after the last ':' reads like a misspelt outcome, say that.
 */
function explainAfter(err: unknown, after: string[]): unknown {
  if (!(err instanceof ValidationError) || err.field !== 'after') return err;
  for (const text of after) {
    const m = /^(.+):([A-Za-z]+)$/.exec(text);
    if (m === null || !err.message.includes(`'${text}'`)) continue;
    return new ValidationError(`--after: '${text}': no job has that name, and '${m[2]}' is not an outcome ` +
      `(use ${m[1]}, ${m[1]}:succeeded, ${m[1]}:failed or ${m[1]}:finished)`, '--after');
  }
  return err;
}

/**
 * `run JOB` without a daemon: nothing else would execute the run, so it happens here, in the
 * foreground — and so do its retries (after their backoff) and the jobs that run `--after` it, each
 * announced on stderr as it is queued. Resolves with the job's last attempt.
 */
async function runInForeground(ctx: CliContext, s: Scheduler, ref: string): Promise<Run> {
  const job = await s.getJob(ref);
  const sub = s.events$.subscribe((e) => {
    if (e.type !== 'run.queued' || e.run.trigger === 'manual') return;
    const when = relativeTime(e.run.scheduledAt);
    const what = e.run.trigger === 'retry' && e.run.jobId === job.id
      ? `retry (attempt ${e.run.attempt} of ${job.retry.maxRetries + 1}) ${when === 'now' ? 'now' : when}`
      : `${e.run.jobId} (${e.run.trigger})`;
    ctx.io.stderr(`rae-sched: no daemon runs, so this runs here in the foreground: ${what}\n`);
  });
  try {
    const first = await s.runNow(ref);
    let last = await s.waitForRun(first.id);
    if (s.idle !== undefined) {
      await s.idle();
      last = (await s.history(job.id, { limit: 1 }))[0] ?? last;
    }
    return last;
  } finally {
    sub.unsubscribe();
  }
}

/**
 * Registers the job commands. `argvCommand` is what followed `--` on the command line (the CLI
 * splits it off before commander sees it, because commander cannot tell `-- a b` from `a b`).
 */
export function registerJobCommands(program: Command, ctx: CliContext, argvCommand: string[] | undefined): void {
  withCommonOptions(program.command('add')
    .description('add a job; prints its id (--json: the job)')
    .argument('<name>', 'unique job name (or --name NAME, e.g. for a name starting with -)')
    .argument('<schedule>', 'cron, "every 5m", "every day at 09:30", "at 2027-01-01T09:00", "never" ...')
    .argument('[command]', 'one shell command string (or `-- PROG ARG...` for argv without a shell)')
    .option('--tz <zone>', 'IANA time zone of the schedule')
    .option('--priority <n>', 'higher runs first (default 0)')
    .option('--retries <n>', 'further attempts after a failure (default 0)')
    .option('--backoff <dur>', 'first retry delay; doubles each attempt, with jitter, capped')
    .option('--timeout <dur>', 'kill the run (status timeout) after this long')
    .option('--max-memory <size>', 'kill the run when its memory exceeds this, e.g. 256MB')
    .option('--max-cpu <percent>', 'kill the run when its CPU use exceeds this percentage')
    .addOption(new Option('--overlap <policy>', 'when the previous run still runs').choices(OVERLAP_POLICIES))
    .addOption(new Option('--catch-up <policy>', 'runs missed while the daemon was down').choices(CATCH_UP_POLICIES))
    .option('--cwd <dir>', 'working directory of the run')
    .option('--env <k=v>', 'environment variable (repeatable)', collect)
    .option('--inherit-env [names]', "pass the daemon's whole environment to the job, or only NAME,NAME (default: a clean one)")
    .option('--watch <path>', 'also run when this path changes (repeatable)', collect)
    .option('--when <condition>', 'also run when this usage/threshold condition holds')
    .option('--cooldown <dur>', 'least time between two --when fires')
    .option('--after <job>', 'also run when JOB succeeds (JOB:failed, JOB:finished) (repeatable)', collect)
    .option('--jitter <dur>', 'random delay added to each scheduled fire')
    .option('--module <file>', 'a JS job module instead of a command')
    .addOption(new Option('--isolation <mode>', 'where a --module job runs: a worker thread (default) or its own process')
      .choices(['thread', 'process']))
    .option('--disabled', 'add the job paused'))
    .action(async (nameArg: string, schedule: string, command: string | undefined, opts: AddOptions & CommonOptions) => {
      const name = nameArg === ADD_NAME_PLACEHOLDER && ctx.addName !== undefined ? ctx.addName : nameArg;
      if (opts.tz !== undefined) checkZone(opts.tz);
      const args = { name, schedule, ...(command !== undefined ? { command } : {}), ...(argvCommand !== undefined ? { argv: argvCommand } : {}) };
      const spec = buildJobSpec(args, opts, ctx.cwd);
      await checkPaths(spec);
      const job = await ctx.withScheduler(opts, (s) => s.addJob(spec)).catch((err: unknown) => {
        throw explainAfter(err, opts.after ?? []);
      });
      ctx.print(opts, job, () => job.id);
    });

  withCommonOptions(program.command('list')
    .description('all jobs, in creation order (--json: array of jobs; with --limit/--after: {"jobs": [...], "next": cursor|null})')
    .option('--limit <n>', `one page of at most N jobs (1 to ${MAX_PAGE}; default ${DEFAULT_PAGE} with --after)`)
    .option('--after <cursor>', 'the page after this cursor (printed by the previous page)'))
    .action(async (opts: CommonOptions & { limit?: string; after?: string }) => {
      // The table needs a few columns: without a daemon they are read without decoding any job
      // spec (direct.ts `listRows`); `--json` prints whole jobs.
      const rows = (s: Scheduler): RowLister | null => (opts.json !== true && isRowLister(s) ? s : null);
      if (opts.limit === undefined && opts.after === undefined) {
        const jobs = await ctx.withStore(opts, (s) => rows(s)?.listRows() ?? s.listJobs());
        return ctx.print(opts, jobs, () => formatJobs(jobs));
      }
      // Checked before the store or the daemon is reached: a bad flag is a usage error either way.
      const limit = opts.limit === undefined ? undefined : checkPageLimit(parsePositiveInt(opts.limit, '--limit'), '--limit');
      if (opts.after !== undefined) decodeCursor(opts.after, '--after');
      const pageOpts = { ...(limit === undefined ? {} : { limit }), ...(opts.after === undefined ? {} : { after: opts.after }) };
      const page = await ctx.withStore(opts, (s) => rows(s)?.listRows(pageOpts) ?? s.listJobs(pageOpts));
      ctx.print(opts, page, () => formatJobs(page.jobs) +
        (page.next === null ? '' : `\nmore: rae-sched list --limit ${limit ?? DEFAULT_PAGE} --after ${page.next}`));
    });

  withCommonOptions(program.command('status').description('one job: spec, state, last run, next run').argument('<job>', 'job id or name'))
    .action(async (job: string, opts: CommonOptions) => {
      const found = await ctx.withStore(opts, (s) => s.getJob(job));
      ctx.print(opts, found, () => formatJob(found));
    });

  withCommonOptions(program.command('remove').description('remove the job and stop it firing').argument('<job>', 'job id or name'))
    .action(async (job: string, opts: CommonOptions) => {
      await ctx.withStore(opts, (s) => s.removeJob(job));
      ctx.print(opts, { removed: job }, () => `removed ${job}`);
    });

  for (const [verb, text] of [['pause', 'stop firing (history is kept)'], ['resume', 'restart firing']] as const) {
    withCommonOptions(program.command(verb).description(text).argument('<job>', 'job id or name'))
      .action(async (job: string, opts: CommonOptions) => {
        const updated = await ctx.withStore(opts, (s) => (verb === 'pause' ? s.pauseJob(job) : s.resumeJob(job)));
        ctx.print(opts, updated, () => `${verb === 'pause' ? 'paused' : 'resumed'} ${updated.name} (${updated.state})`);
      });
  }

  withCommonOptions(program.command('run')
    .description('fire once now; prints the run id (--wait: waits, prints the run, exit 0 iff it succeeded)')
    .argument('<job>', 'job id or name')
    .option('--wait', 'wait for the run to finish'))
    .action(async (job: string, opts: CommonOptions & { wait?: boolean }) => {
      const { run, waited } = await ctx.withStore(opts, async (s, remote) => {
        if (!remote) return { run: await runInForeground(ctx, s, job), waited: true };
        const queued = await s.runNow(job);
        if (!opts.wait) return { run: queued, waited: false };
        const done = await s.waitForRun(queued.id);
        const spec = await s.getJob(job);
        if (done.status !== 'succeeded' && done.attempt <= spec.retry.maxRetries) {
          ctx.io.stderr(`rae-sched: note: attempt ${done.attempt} of ${spec.retry.maxRetries + 1} ${done.status}; ` +
            `the daemon retries it (see \`rae-sched history ${job}\`)\n`);
        }
        return { run: done, waited: true };
      });
      if (!waited) return ctx.print(opts, run, () => run.id);
      ctx.print(opts, run, () => formatRun(run));
      ctx.exitCode = run.status === 'succeeded' ? 0 : 1;
    });

  withCommonOptions(program.command('history')
    .description('runs, newest first (--json: array of runs)')
    .argument('<job>', 'job id or name')
    .option('--limit <n>', 'at most N runs (default 20)'))
    .action(async (job: string, opts: CommonOptions & { limit?: string }) => {
      const limit = opts.limit === undefined ? 20 : parsePositiveInt(opts.limit, '--limit');
      const runs = await ctx.withStore(opts, (s) => s.history(job, { limit }));
      ctx.print(opts, runs, () => formatRuns(runs));
    });

  withCommonOptions(program.command('why')
    .description('explain recent slots (fired, skipped, missed, deduped), the next run and what could block it')
    .argument('<job>', 'job id or name'))
    .action(async (job: string, opts: CommonOptions) => {
      const report = await ctx.withStore(opts, (s) => s.why(job));
      ctx.print(opts, report, () => formatWhy(report));
    });
}
