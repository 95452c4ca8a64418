/**
 * Child-process entry for JS job modules with `isolation: 'process'`: `node module-host.js FILE`.
 * Running the module in its own process gives it the same limits, output capture and group kill as
 * a command. The run task reads a one-line JSON report from fd 3. The module contract is in
 * `run/job-module.ts` (docs/jobs.md).
 */
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { eventFromEnv } from './run/event-env';
import { errorMessage, importModule, loadError, noEntryError, pickEntry, stackText, type JobContext, type JobFunction } from './run/job-module';

export type { JobContext, JobFunction } from './run/job-module';


const REPORT_FD = 3;

function report(body: { ok: boolean; error?: string }): void {
  try {
    fs.writeSync(REPORT_FD, JSON.stringify(body) + '\n');
  } catch {
    // Run by hand, without fd 3: the exit code still tells the story.
  }
}

function finish(code: number): void {
  // Exit only once stdout has flushed (it is a pipe), and do not wait for handles the module left open.
  process.stdout.write('', () => process.exit(code));
}

function parseEvent(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

async function main(file: string | undefined): Promise<void> {
  if (!file) {
    report({ ok: false, error: 'module host: no module file given' });
    return finish(2);
  }
  const controller = new AbortController();
  // Handling SIGTERM turns the group kill's first signal into an abort the module can react to;
  // the runner's SIGKILL after the grace period still ends a module that ignores it.
  process.on('SIGTERM', () => controller.abort(new Error('the run is being stopped')));
  let entry: JobFunction | null;
  try {
    entry = pickEntry(await importModule(pathToFileURL(file).href));
  } catch (err) {
    report({ ok: false, error: loadError(file, err) });
    return finish(1);
  }
  if (!entry) {
    report({ ok: false, error: noEntryError(file) });
    return finish(1);
  }
  const ctx: JobContext = {
    jobId: process.env.RAE_SCHED_JOB_ID ?? '',
    jobName: process.env.RAE_SCHED_JOB_NAME ?? '',
    runId: process.env.RAE_SCHED_RUN_ID ?? '',
    attempt: Number(process.env.RAE_SCHED_ATTEMPT ?? 1),
    scheduledAt: process.env.RAE_SCHED_SCHEDULED_AT ?? null,
    env: process.env,
    event: parseEvent(process.env.RAE_SCHED_EVENT) ?? eventFromEnv(process.env),
    signal: controller.signal,
    log: (...args: unknown[]) => void process.stdout.write(format(...args) + '\n'),
  };
  let settled = false;
  // Node exits quietly (code 0) when a pending promise has nothing left to wait on: that is a job
  // that never finished, not a success.
  process.on('beforeExit', () => {
    if (settled) return;
    settled = true;
    report({ ok: false, error: 'the job module never settled: its promise was pending with nothing left to wait for' });
    finish(1);
  });
  try {
    const value = await entry(ctx);
    settled = true;
    if (value !== undefined) process.stdout.write(JSON.stringify(value) + '\n');
    report({ ok: true });
    finish(0);
  } catch (err) {
    settled = true;
    const message = errorMessage(err);
    process.stderr.write(`${stackText(err)}\n`);
    report({ ok: false, error: message });
    finish(1);
  }
}

// Only as the child's entry script: importing this file (a test, a bundler) must not run a job host.
if (require.main === module) void main(process.argv[2]);
