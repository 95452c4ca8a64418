/**
 * End-to-end throughput: N `runNow` of a job whose command is `true` — argv form `{argv:['true']}`
 * and shell form `'true'` — at maxConcurrentJobs 4 and 16, timed until every `run.finished` arrived.
 *
 * Ceiling measured in the same run, in its own fresh process: spawning `true` N times directly with
 * child_process at the same concurrency (with `shell: true` for the shell form). Nothing that spawns
 * a process per run can beat it; the ratio is how much of it the scheduler keeps.
 *
 * Logging: the same scheduler workload (argv form, concurrency 4) with the daemon's log — pino, info
 * level, one `run.finished` line per run, asynchronous file destination (`createDaemonLog`) — against
 * the silent default logger, alternated in fresh processes (`--logging-repeat` pairs, default 3).
 * `--logging-only` runs just that comparison.
 *
 * Run: `npx tsc -p . && node dist/bench/throughput.js [--runs 500] [--logging-only]`
 * Writes bench/results/throughput.json.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Table from 'cli-table3';
import { filter } from 'rxjs';
import { createScheduler } from '../src/scheduler';
import { createDaemonLog } from '../src/cli/daemon';
import type { Logger } from '../src/api';
import { childMain, msSince, percentiles, runChild, writeResult, type Percentiles } from './lib';

type Form = 'argv' | 'shell';
interface Args { form: Form; concurrency: number; n: number; log?: boolean }

interface Result {
  runsPerSec: number;
  totalMs: number;
  succeeded: number;
  /** runNow call → run.finished, per run (scheduler only). */
  latency: Percentiles | null;
}

async function scheduler(a: Args): Promise<Result> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'rae-bench-tput-'));
  const log = a.log === true ? createDaemonLog(path.join(dataDir, 'logs', 'daemon.log'), false) : null;
  const s = await createScheduler({ dataDir, maxConcurrentJobs: a.concurrency, ...(log === null ? {} : { logger: log.logger as unknown as Logger }) });
  try {
    // overlap 'allow': every runNow runs, none is skipped behind the previous one.
    await s.addJob({ name: 'noop', schedule: 'never', overlap: 'allow', command: a.form === 'argv' ? { argv: ['true'] } : 'true' });
    // Warm-up: threads, pool and JIT, outside the timed loop.
    await s.waitForRun((await s.runNow('noop')).id);
    // Every finish is recorded: a run can finish before runNow's reply reaches us.
    const finished = new Map<string, { at: bigint; ok: boolean }>();
    let wanted: string[] | null = null;
    let allDone!: () => void;
    const all = new Promise<void>((r) => (allDone = r));
    const check = (): void => {
      if (wanted !== null && finished.size >= wanted.length && wanted.every((id) => finished.has(id))) allDone();
    };
    const sub = s.events$.pipe(filter((e) => e.type === 'run.finished')).subscribe((e) => {
      if (e.type !== 'run.finished') return;
      finished.set(e.run.id, { at: process.hrtime.bigint(), ok: e.run.status === 'succeeded' });
      check();
    });
    const t = process.hrtime.bigint();
    // Fire-and-collect: the caller does not wait for one run before asking for the next.
    const asked = await Promise.all(Array.from({ length: a.n }, async () => {
      const t0 = process.hrtime.bigint();
      return { id: (await s.runNow('noop')).id, t0 };
    }));
    wanted = asked.map((x) => x.id);
    check();
    await all;
    const totalMs = msSince(t);
    sub.unsubscribe();
    const lat = asked.map((x) => Number(finished.get(x.id)!.at - x.t0) / 1e6);
    const succeeded = asked.filter((x) => finished.get(x.id)!.ok).length;
    return { runsPerSec: Math.round(a.n / (totalMs / 1000)), totalMs: Math.round(totalMs), succeeded, latency: percentiles(lat) };
  } finally {
    await s.shutdown({ graceMs: 2000 });
    log?.flush();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function ceiling(a: Args): Promise<Result> {
  const once = (): Promise<number | null> => new Promise((resolve, reject) => {
    const child = a.form === 'argv' ? spawn('true', [], { stdio: 'pipe' }) : spawn('true', { shell: true, stdio: 'pipe' });
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  await once();
  let next = 0;
  let succeeded = 0;
  const t = process.hrtime.bigint();
  await Promise.all(Array.from({ length: a.concurrency }, async () => {
    while (next++ < a.n) if ((await once()) === 0) succeeded++;
  }));
  const totalMs = msSince(t);
  return { runsPerSec: Math.round(a.n / (totalMs / 1000)), totalMs: Math.round(totalMs), succeeded, latency: null };
}

/** Runs/s with the daemon's info log on vs the silent logger, in alternating fresh processes. */
async function logging(n: number, repeat: number): Promise<Record<string, unknown>> {
  const on: number[] = [];
  const off: number[] = [];
  for (let i = 0; i < repeat; i++) {
    off.push((await runChild<Result>(__filename, 'scheduler', { form: 'argv', concurrency: 4, n, log: false })).runsPerSec);
    on.push((await runChild<Result>(__filename, 'scheduler', { form: 'argv', concurrency: 4, n, log: true })).runsPerSec);
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratio = +(med(on) / med(off)).toFixed(2);
  console.log(`logging (argv, concurrency 4, ${n} runs): silent ${off.join(' / ')} runs/s, info log ${on.join(' / ')} runs/s; median ratio ${ratio}x`);
  return { runs: n, form: 'argv', concurrency: 4, silentRunsPerSec: off, loggedRunsPerSec: on, medianRatio: ratio };
}

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

async function main(): Promise<void> {
  const n = flag('--runs', 500);
  const logRepeat = flag('--logging-repeat', 3);
  if (process.argv.includes('--logging-only')) {
    const log = await logging(n, logRepeat);
    console.log(`written ${writeResult('throughput-logging', log)}`);
    return;
  }
  const rows: Array<Args & { scheduler: Result; ceiling: Result; ratio: number }> = [];
  const table = new Table({ style: { head: [], border: [] }, head: ['form', 'concurrency', 'scheduler runs/s', 'ok', 'run latency p50/p99 ms', 'spawn ceiling runs/s', 'ratio'] });
  for (const form of ['argv', 'shell'] as const) {
    for (const concurrency of [4, 16]) {
      const args: Args = { form, concurrency, n };
      const sch = await runChild<Result>(__filename, 'scheduler', args);
      const top = await runChild<Result>(__filename, 'ceiling', args);
      const ratio = +(sch.runsPerSec / top.runsPerSec).toFixed(2);
      rows.push({ ...args, scheduler: sch, ceiling: top, ratio });
      table.push([form, concurrency, sch.runsPerSec, `${sch.succeeded}/${n}`, `${sch.latency?.p50} / ${sch.latency?.p99}`, top.runsPerSec, `${ratio}x`]);
    }
  }
  console.log(table.toString());
  console.log('ratio = scheduler runs/s / direct child_process spawn runs/s (same run, same concurrency)');
  const log = await logging(n, logRepeat);
  console.log(`written ${writeResult('throughput', { runs: n, rows, logging: log })}`);
}

if (!childMain({ scheduler, ceiling })) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
