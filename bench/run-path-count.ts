/**
 * Per-run costs of the run path, counted (issue 7): a W1-like closed loop of `runNow` on a no-op
 * module job (thread isolation) in THIS process, with the runtime's pieces wrapped to count what
 * each run pays — mailbox deliveries per actor and message type, thread hops (MessagePort posts
 * main → thread), Piscina tasks, awaited store commits, event-bus publishes, ask timers, other
 * timers, zod parses, log calls. Divided by the runs finished in the timed loop.
 *
 * Run: `npx tsc -p . && node dist/bench/run-path-count.js [--runs 20000] [--window 1024] [--concurrency 256]`
 * Add `--cpu-prof` to node for a profile of the same loop; `--bare` leaves the counting wrappers out
 * (CPU figures only); `--log FILE` logs through the daemon's log (a line per run at info). Prints one JSON document; `cpuUsPerRunByThread` is each thread's CPU time
 * (Linux /proc, 10 ms ticks) per run: the main thread apart from the worker threads.
 *
 * Supervision's cost on the run path (issue 8, "W1–W3 within 5%"): `--supervision off` runs the
 * same loop with per-message supervision off (hang watchdogs, mailbox bounds, the fault-injection
 * check, heartbeats: InternalOptions.perMessageSupervision); `--ab 5` runs 5 pairs of fresh child
 * processes, on and off interleaved (`--bare`, so no counting wrapper), and prints each side's
 * medians, their spread and the ratios on ÷ off, then `--per-message`'s figure. `--per-message 10`
 * alone: the cost supervision adds to one message (ns per ask, on vs off, 10 alternating rounds).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { MessagePort } from 'node:worker_threads';
import { ActorCell } from '../src/runtime/actor-cell';
import { SystemClock } from '../src/runtime/clock';
import { ActorSystem } from '../src/runtime/system';
import { EventBus } from '../src/runtime/event-bus';
import { HangWatch } from '../src/runtime/hang-watch';
import { CrashInjector } from '../src/runtime/crash-injection';
import { Heartbeats } from '../src/actors/monitor/heartbeats';
import { testHooksOf, type InternalOptions } from '../src/scheduler';
import { createDaemonLog } from '../src/cli/daemon-log';
import { closedLoop, addModuleJob, openScheduler, warmUp } from './workloads/rae';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};

const counts = new Map<string, number>();
const bump = (k: string, n = 1): void => { counts.set(k, (counts.get(k) ?? 0) + n); };

function instrument(): void {
  const cell = ActorCell.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const m of ['ask', 'tell'] as const) {
    const orig = cell[m]!;
    cell[m] = function (this: { name: string }, type: unknown, ...rest: unknown[]) {
      bump(`mailbox ${this.name}.${String(type)}`);
      if (m === 'ask') bump('ask (one timeout timer each)');
      return orig.call(this, type, ...rest);
    };
  }
  // What per-message supervision does (issue 8): each row times its per-message cost is its cost per run.
  const wrap = (proto: object, m: string, row: string): void => {
    const p = proto as Record<string, (...a: unknown[]) => unknown>;
    const orig = p[m]!;
    p[m] = function (this: unknown, ...a: unknown[]) { bump(row); return orig.apply(this, a); };
  };
  wrap(HangWatch.prototype, 'start', 'supervision: hang watchdog start (one stamp, one record)');
  wrap(CrashInjector.prototype, 'take', 'supervision: fault-injection take (called only while a fault is armed)');
  wrap(Heartbeats.prototype, 'beat', 'supervision: heartbeat round (one ask per actor)');
  const bus = EventBus.prototype as unknown as { publish(e: { type: string }): void };
  const publish = bus.publish;
  bus.publish = function (e) {
    bump(`publish ${e.type}`);
    return publish.call(this, e);
  };
  const post = MessagePort.prototype.postMessage;
  MessagePort.prototype.postMessage = function (this: MessagePort, ...a: Parameters<MessagePort['postMessage']>) {
    bump('MessagePort.postMessage (main thread)');
    return post.apply(this, a);
  };
  const st = globalThis.setTimeout;
  (globalThis as { setTimeout: unknown }).setTimeout = (...a: Parameters<typeof setTimeout>) => { bump('setTimeout'); return st(...a); };
  const si = globalThis.setImmediate;
  (globalThis as { setImmediate: unknown }).setImmediate = (...a: Parameters<typeof setImmediate>) => { bump('setImmediate'); return si(...a); };
  // zod: every parse goes through ZodType.prototype._parse.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ZodType } = require('zod') as { ZodType: { prototype: Record<string, (...a: unknown[]) => unknown> } };
  for (const m of ['parse', 'safeParse', 'parseAsync', 'safeParseAsync']) {
    const orig = ZodType.prototype[m]!;
    ZodType.prototype[m] = function (this: unknown, ...a: unknown[]) { bump('zod parse (top level)'); return orig.apply(this, a); };
  }
}

/**
 * CPU time of every thread of this process (Linux: /proc/self/task/<tid>/stat, utime + stime in
 * clock ticks of 10 ms), so the main thread's share per run is read apart from the worker
 * threads' (persistence, module threads, lmdb's writer) whatever the machine's load.
 */
function threadTicks(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Keyed by tid and the thread's name (libuv, V8 platform and worker threads are named by node).
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // f[19]: the thread's start time (clock ticks after boot) — tells creation order apart.
      out.set(`${tid} ${name} born+${Number(f[19])}`, Number(f[11]) + Number(f[12]));
    }
  } catch {
    // Not Linux: no per-thread figures.
  }
  return out;
}

/** µs of CPU per run: the main thread, then the other threads busiest first (ticks are 10 ms). */
function perThread(before: Map<string, number>, after: Map<string, number>, runs: number): Record<string, number> {
  const us = (ticks: number): number => Math.round((ticks * 10_000) / runs);
  const main = String(process.pid);
  const isMain = (key: string): boolean => key.split(' ')[0] === main;
  const rows = [...after].map(([key, t]) => [key, t - (before.get(key) ?? 0)] as const);
  const out: Record<string, number> = { 'main thread': us(rows.find(([key]) => isMain(key))?.[1] ?? 0) };
  rows.filter(([key, t]) => !isMain(key) && t > 0).sort((a, b) => b[1] - a[1]).slice(0, 12)
    .forEach(([key, t], i) => { out[`other thread #${i + 1} (${key.slice(key.indexOf(' ') + 1)})`] = us(t); });
  return out;
}

/** `--adds N`: N addJob from 16 concurrent callers (W5's shape) instead of the run loop. */
async function adds(n: number): Promise<void> {
  const { s, close } = await openScheduler({ maxConcurrentJobs: 16 });
  try {
    const job = (i: number, tag: string) => ({ name: `${tag}-${i}`, schedule: 'every 6 hours', timezone: 'UTC', command: { argv: ['/bin/true'] } });
    for (let i = 0; i < 20; i++) await s.addJob(job(i, 'warm'));
    instrument();
    let next = 0;
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    await Promise.all(Array.from({ length: 16 }, async () => {
      for (let i = next++; i < n; i = next++) await s.addJob(job(i, 'conc'));
    }));
    const cpu = process.cpuUsage(cpu0);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const per: Record<string, number> = {};
    for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1])) per[k] = Math.round((v / n) * 1000) / 1000;
    console.log(JSON.stringify({ adds: n, callers: 16, addsPerSec: Math.round(n / (ms / 1000)), processCpuUsPerAdd: Math.round((cpu.user + cpu.system) / n), perAdd: per }, null, 2));
  } finally {
    await close();
  }
}

/** One figure's median and spread (half the range, relative to the median), over the repetitions. */
function summary(xs: number[]): { median: number; spreadPct: number; all: number[] } {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, spreadPct: Math.round(((sorted[sorted.length - 1]! - sorted[0]!) / 2 / median) * 1000) / 10, all: xs };
}

/**
 * What per-message supervision costs one message, measured alone: ask round trips to a main-thread
 * actor (64 in flight) in two systems, one with it on (a hang deadline on every message, as the
 * scheduler's actors have) and one with it off, in alternating rounds of 300 ms. CPU ns per ask, medians.
 */
async function perMessage(rounds: number): Promise<{ onNsPerAsk: number; offNsPerAsk: number; deltaNsPerMessage: number }> {
  const make = (on: boolean) => {
    const system = new ActorSystem({ clock: new SystemClock(), perMessageSupervision: on });
    const ref = system.spawn({ name: 'echo', factory: () => ({ ping: (n: number) => n }), hangAfterMs: 120_000, mailboxSize: 100_000 });
    return { system, ref };
  };
  const sides = { on: make(true), off: make(false) };
  const ns: Record<'on' | 'off', number[]> = { on: [], off: [] };
  // CPU time (this process: the asks run on the main thread), which a loaded machine disturbs less than wall time.
  const round = async (ref: (typeof sides)['on']['ref']): Promise<number> => {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let count = 0;
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (performance.now() - t0 < 300) { await ref.ask('ping', count); count++; }
    }));
    const cpu = process.cpuUsage(cpu0);
    return ((cpu.user + cpu.system) * 1e3) / count;
  };
  for (let i = 0; i < rounds; i++) {
    const order: Array<'on' | 'off'> = i % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
    for (const side of order) ns[side].push(await round(sides[side].ref));
  }
  await Promise.all([sides.on.system.stop(), sides.off.system.stop()]);
  const on = summary(ns.on).median;
  const off = summary(ns.off).median;
  return { onNsPerAsk: Math.round(on), offNsPerAsk: Math.round(off), deltaNsPerMessage: Math.round(on - off) };
}

/**
 * `--ab N`: N rounds of fresh children, supervision on and off in a rotating order, compared. With
 * `--control`, each round runs a third child with supervision on again ("on2"): on2 ÷ on is the
 * method's own noise floor (A/A) — a gap on ÷ off no larger than it is no measured cost.
 */
async function ab(pairs: number): Promise<void> {
  const runs = String(arg('runs', 20_000));
  const control = process.argv.includes('--control');
  type Arm = 'on' | 'off' | 'on2';
  const side = (arm: Arm): Record<string, number> => {
    const mode = arm === 'off' ? 'off' : 'on';
    const out = execFileSync(process.execPath, [__filename, '--bare', '--runs', runs, '--supervision', mode], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const r = JSON.parse(out) as { jobsPerSec: number; processCpuUsPerRun: number; cpuUsPerRunByThread: Record<string, number> };
    return { jobsPerSec: r.jobsPerSec, processCpuUsPerRun: r.processCpuUsPerRun, mainThreadCpuUsPerRun: r.cpuUsPerRunByThread['main thread'] ?? NaN };
  };
  const arms: Arm[] = control ? ['on', 'off', 'on2'] : ['on', 'off'];
  const got: Record<Arm, Array<Record<string, number>>> = { on: [], off: [], on2: [] };
  for (let i = 0; i < pairs; i++) {
    // Rotate the order, so a drift in the machine's load does not favour one side.
    const order = arms.map((_, j) => arms[(i + j) % arms.length]!);
    for (const arm of order) {
      got[arm].push(side(arm));
      process.stderr.write(`round ${i + 1}/${pairs} supervision ${arm}: ${JSON.stringify(got[arm][got[arm].length - 1])}\n`);
    }
  }
  const figures = ['jobsPerSec', 'processCpuUsPerRun', 'mainThreadCpuUsPerRun'];
  const sum = (arm: Arm) => Object.fromEntries(figures.map((f) => [f, summary(got[arm].map((x) => x[f]!))]));
  const on = sum('on');
  const off = sum('off');
  const r3 = (x: number): number => Math.round(x * 1000) / 1000;
  const ratio = (a: typeof on, b: typeof on) => Object.fromEntries(figures.map((f) => [f, r3(a[f]!.median / b[f]!.median)]));
  const paired = (a: Arm, b: Arm) => Object.fromEntries(figures.map((f) => {
    const xs = got[a].map((x, i) => r3(x[f]! / got[b][i]![f]!));
    return [f, summary(xs)];
  }));
  const one = await perMessage(10);
  console.log(JSON.stringify({
    pairs, runs: Number(runs), on, off, ...(control ? { on2: sum('on2') } : {}),
    // The same cost from the bottom up: what it adds to one message, alone (low noise); times the
    // supervised operations per run (the counting run's `supervision *` rows) it is the cost per run.
    perMessage: one,
    // Supervision costs 5% at most when jobsPerSec on ÷ off >= 0.95 and CPU per run on ÷ off <= 1.05.
    ratioOnOff: ratio(on, off),
    ...(control ? { ratioOn2On: ratio(sum('on2'), on) } : {}),
    // The ratio inside each round (children run one after the other), then its median and spread
    // over the rounds: less sensitive to the machine's load drifting between rounds.
    pairedOnOff: paired('on', 'off'),
    ...(control ? { pairedOn2On: paired('on2', 'on') } : {}),
  }, null, 2));
}

async function main(): Promise<void> {
  if (process.argv.includes('--adds')) return adds(arg('adds', 2000));
  if (process.argv.includes('--ab')) return ab(arg('ab', 5));
  if (process.argv.includes('--per-message')) return void console.log(JSON.stringify(await perMessage(arg('per-message', 10))));
  const runs = arg('runs', 20_000);
  const window = arg('window', 1024);
  const maxConcurrentJobs = arg('concurrency', 256);
  // `--log FILE`: the daemon's own log (pino at info, buffered file destination: one `run.finished`
  // line per run), to see what a line per run costs the run path.
  const logFile = process.argv.includes('--log') ? process.argv[process.argv.indexOf('--log') + 1]! : null;
  const logger = logFile !== null ? createDaemonLog(logFile, false).logger : {
    debug: () => bump('log debug'), info: () => bump('log info'), warn: () => bump('log warn'), error: () => bump('log error'),
  };
  const supervision = process.argv.includes('--supervision') ? process.argv[process.argv.indexOf('--supervision') + 1] !== 'off' : true;
  const { s, close } = await openScheduler({ maxConcurrentJobs, maxQueuedJobs: Math.max(window * 2, 10_000), logger, perMessageSupervision: supervision } as Omit<InternalOptions, 'dataDir'>);
  try {
    await addModuleJob(s, { name: 'noop', schedule: 'never', overlap: 'allow' });
    await warmUp(s, 'noop', 500);
    const hooks = testHooksOf(s);
    const before = await hooks.commitStats();
    // `--bare`: no counting wrappers, for the CPU figures alone (the wrappers cost main-thread time).
    if (!process.argv.includes('--bare')) instrument();
    const cpu0 = process.cpuUsage();
    const ticks0 = threadTicks();
    const r = await closedLoop(s, 'noop', { n: runs, window, budgetMs: 120_000 });
    const cpu = process.cpuUsage(cpu0);
    const threads = perThread(ticks0, threadTicks(), r.finished);
    const snapshot = new Map(counts);
    const after = await hooks.commitStats();
    const per: Record<string, number> = {};
    for (const [k, v] of [...snapshot].sort((a, b) => b[1] - a[1])) per[k] = Math.round((v / r.finished) * 1000) / 1000;
    per['store commits (awaited, one flush each)'] = Math.round(((after.commits - before.commits) / r.finished) * 1000) / 1000;
    console.log(JSON.stringify({
      runs: r.finished, failed: r.failed, refused: r.refused, window, maxConcurrentJobs, supervision: supervision ? 'on' : 'off',
      jobsPerSec: Math.round(r.finished / (r.elapsedMs / 1000)),
      processCpuUsPerRun: Math.round((cpu.user + cpu.system) / r.finished),
      cpuUsPerRunByThread: threads,
      perRun: per,
    }, null, 2));
  } finally {
    await close();
  }
}

void main();
