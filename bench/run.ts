/**
 * `npm run bench`: every workload (W1–W6) in fresh child processes, each beside its ceiling and its
 * peers measured in the same run; one table with ratios and goals; bench/results/latest.{json,md}
 * and, for a full run, chart.svg. What each workload measures and how to read it: bench/README.md.
 *
 * Run: `npm run bench [-- --quick] [-- --only W1,W3] [-- --json] [-- --reps N]`
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs, usage, UsageError } from './harness/args';
import { Progress } from './harness/progress';
import { renderText, type ResultsDocument } from './harness/report';
import { gitCommit, writeResults } from './harness/results';
import { runWorkloads } from './harness/runner';
import { WORKLOADS } from './workloads';

async function main(): Promise<number> {
  const ids = WORKLOADS.map((w) => w.id);
  let args;
  try {
    args = parseArgs(process.argv.slice(2), ids);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: error: ${err.message}\n${usage(ids)}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${usage(ids)}\n`);
    return 0;
  }
  const mode = args.quick ? 'quick' : 'full';
  const selected = WORKLOADS.filter((w) => args.only === null || args.only.includes(w.id));
  const progress = new Progress();
  const started = Date.now();
  const loadavgStart = os.loadavg();
  progress.info(`rae-scheduler bench (${mode}): ${selected.map((w) => w.id).join(', ')} · load average ${loadavgStart.map((x) => x.toFixed(2)).join(' ')}`);
  const { results, evaluations } = await runWorkloads(selected, mode, args.reps, progress);
  progress.stop();
  const doc: ResultsDocument = {
    benchmark: 'rae-scheduler',
    info: {
      mode, workloads: selected.map((w) => w.id), complete: selected.length === WORKLOADS.length,
      date: new Date(started).toISOString(), durationMs: Date.now() - started, node: process.version,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null,
      memTotalMb: Math.round(os.totalmem() / 1048576), loadavgStart, loadavgEnd: os.loadavg(), commit: gitCommit(), reps: args.reps,
    },
    rows: selected.flatMap((w) => evaluations.get(w.id)!.rows),
    headline: selected.flatMap((w) => evaluations.get(w.id)!.headline),
    measurements: results.finish(),
  };
  const written = writeResults(doc);
  if (args.json) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  else process.stdout.write(`\n${renderText(doc)}\n`);
  progress.info(`done in ${Math.round(doc.info.durationMs / 1000)} s; written ${written.map((p) => path.relative(process.cwd(), p)).join(', ')}`);
  return 0;
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`bench: error: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
