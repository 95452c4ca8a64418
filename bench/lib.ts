/**
 * Shared plumbing of the benchmarks: one workload per fresh child process, memory after gc,
 * latency percentiles, and the committed result file. Each bench's parent forks itself with
 * `--child <workload> [json-args]`; the child sends back one result message and exits.
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Full gc twice (a second pass collects what the first one's finalizers freed). */
export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error('run with node --expose-gc');
  g();
  g();
}

/** RSS and V8 heap (this thread only) after a full gc. */
export function mem(): { rss: number; heap: number } {
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

/** Milliseconds since `startNs` (a `process.hrtime.bigint()` reading). */
export function msSince(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}

// One percentile summary for every bench: the harness's (unit-tested in test/bench/harness.test.ts).
export { percentiles, type Percentiles } from './harness/stats';

/** Options of {@link runChild}. */
export interface ChildOptions {
  /** Extra node flags (always with --expose-gc). */
  execArgv?: string[];
  /** Kill the child after this long and reject. @default 15 minutes */
  timeoutMs?: number;
}

/**
 * Runs `workload` of the bench file `file` in a fresh node process and resolves with the one
 * message it sends. A child that dies (OOM, crash) or times out rejects with its exit status, so
 * the parent can record the failure instead of losing the whole run.
 */
export function runChild<T>(file: string, workload: string, args: unknown, opts: ChildOptions = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(file, ['--child', workload, JSON.stringify(args ?? null)], {
      execArgv: ['--expose-gc', ...(opts.execArgv ?? [])],
    });
    let result: T | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${workload}: no result within ${opts.timeoutMs ?? 900_000} ms (killed)`));
    }, opts.timeoutMs ?? 900_000);
    child.on('message', (m) => (result = m as T));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && result !== undefined) resolve(result);
      else reject(new Error(`${workload} exited ${code ?? signal}`));
    });
  });
}

/**
 * The child side: when argv holds `--child <name> <json>`, runs `workloads[name](args)`, sends the
 * result to the parent and exits; returns false when this process is the parent.
 */
export function childMain(workloads: Record<string, (args: never) => Promise<unknown>>): boolean {
  const i = process.argv.indexOf('--child');
  if (i < 0) return false;
  const name = process.argv[i + 1] ?? '';
  const run = workloads[name];
  if (run === undefined) throw new Error(`unknown workload ${name}`);
  const args = JSON.parse(process.argv[i + 2] ?? 'null') as never;
  run(args).then(
    // Exit explicitly once the parent has the result: leftover handles must not keep us alive.
    (r) => process.send!(r, () => process.exit(0)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
  return true;
}

/** Writes `bench/results/<name>.json` (in the source tree, not dist) with machine details. */
export function writeResult(name: string, body: Record<string, unknown>): string {
  const out = path.join(__dirname, '..', '..', 'bench', 'results', `${name}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({
    benchmark: name, date: new Date().toISOString(), node: process.version,
    cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null, loadavg: os.loadavg(), ...body,
  }, null, 2)}\n`);
  return path.relative(process.cwd(), out);
}

/** Megabytes with one decimal. */
export const mb = (b: number): string => (b / 1048576).toFixed(1);
