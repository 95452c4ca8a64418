/**
 * CPU per `/bin/true` argv run, split by who pays it (issue 7, W2): the scheduler's process (main
 * thread and every other thread), the run host process (src/workers/run-host.ts: spawning and
 * supervising), the jobs themselves (the reaped children of the host: exec, cgroup join, exit) —
 * beside a raw `child_process.spawn` loop at the same concurrency (its process and its children).
 * CPU, unlike runs/s, barely moves with the load of a shared machine, so this is where a change to
 * the run path shows first. Read from /proc (Linux only).
 *
 * Run: `npx tsc -p . && node dist/bench/process-run-cost.js [--runs 600] [--rounds 2]`. One JSON
 * line per measurement, each in a fresh process.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { childMain, runChild } from './harness/child';
import type { Sample } from './harness/types';

const CONCURRENCY = 16;
const WINDOW = 64;
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};

/** utime+stime and the reaped children's, ms, of /proc/PID/stat. */
function cpuOf(pid: number | 'self'): { own: number; reaped: number } {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ').map(Number);
  const tick = 10; // USER_HZ is 100 on Linux
  return { own: (f[11]! + f[12]!) * tick, reaped: (f[13]! + f[14]!) * tick };
}

/** Live children of this process (the run host). */
function children(): number[] {
  const out: number[] = [];
  for (const t of fs.readdirSync('/proc/self/task')) {
    try {
      out.push(...fs.readFileSync(`/proc/self/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // thread gone
    }
  }
  return out;
}

async function rae(a: { n: number }): Promise<Sample> {
  // Loaded here, not at the top: the raw loop's process must stay small (fork copies its page tables).
  const { closedLoop, openScheduler, warmUp } = await import('./workloads/rae');
  const { s, close } = await openScheduler({ maxConcurrentJobs: CONCURRENCY, maxQueuedJobs: WINDOW * 4 });
  try {
    await s.addJob({ name: 'true', schedule: 'never', overlap: 'allow', command: { argv: ['/bin/true'] } });
    await warmUp(s, 'true', CONCURRENCY);
    const hosts = children();
    const sum = () => hosts.reduce((acc, p) => {
      const c = cpuOf(p);
      return { own: acc.own + c.own, reaped: acc.reaped + c.reaped };
    }, { own: 0, reaped: 0 });
    const [self0, host0] = [cpuOf('self'), sum()];
    const r = await closedLoop(s, 'true', { n: a.n, window: WINDOW, budgetMs: 300_000 });
    const [self1, host1] = [cpuOf('self'), sum()];
    const per = (x: number) => x / r.finished;
    return {
      metrics: {
        runsPerSec: r.finished / (r.elapsedMs / 1000),
        schedulerMsPerRun: per(self1.own - self0.own),
        hostMsPerRun: per(host1.own - host0.own),
        jobsMsPerRun: per(host1.reaped - host0.reaped + self1.reaped - self0.reaped),
        totalMsPerRun: per(self1.own - self0.own + host1.own - host0.own + host1.reaped - host0.reaped + self1.reaped - self0.reaped),
        rssMB: process.memoryUsage().rss / 1e6,
      },
    };
  } finally {
    await close();
  }
}

async function raw(a: { n: number }): Promise<Sample> {
  const once = () => new Promise<void>((resolve) => spawn('/bin/true', [], { stdio: 'pipe' }).on('close', () => resolve()));
  for (let i = 0; i < CONCURRENCY; i++) await once();
  const c0 = cpuOf('self');
  const t0 = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next++ < a.n) await once();
  }));
  const ms = Date.now() - t0;
  const c1 = cpuOf('self');
  return {
    metrics: {
      runsPerSec: a.n / (ms / 1000),
      spawnerMsPerRun: (c1.own - c0.own) / a.n,
      jobsMsPerRun: (c1.reaped - c0.reaped) / a.n,
      totalMsPerRun: (c1.own - c0.own + c1.reaped - c0.reaped) / a.n,
    },
  };
}

async function main(): Promise<void> {
  const n = arg('runs', 600);
  for (let round = 0; round < arg('rounds', 2); round++) {
    for (const fn of ['rae', 'raw'] as const) {
      const s = await runChild(__filename, fn, { n }, { timeoutMs: 600_000 });
      const m = Object.fromEntries(Object.entries(s.metrics).map(([k, v]) => [k, Math.round(v * 100) / 100]));
      process.stdout.write(`${JSON.stringify({ round, who: fn, load: os1(), ...m })}\n`);
    }
  }
}

const os1 = (): number => Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

if (require.main === module && !childMain({ rae, raw })) void main();
