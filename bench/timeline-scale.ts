/**
 * Scale benchmark of the queue's Timeline: can it hold 1,000,000 jobs in well under 1 GB, and how
 * fast are inserts, upserts/removes and popDue at that size?
 *
 * Baselines measured in the same run, each workload in a fresh process (`--expose-gc`):
 * - `sorted-array-100k`: the naive structure (an array of {jobId, at} objects kept sorted with
 *   binary search + splice) at 100,000 entries — ops/s compared with the Timeline at 100k and 1M;
 * - `timeouts-100k`: one `setTimeout` per job in a Map (what per-job-timer schedulers do) at
 *   100,000 — bytes per entry compared with the Timeline's.
 *
 * Run: `npm run build && node --expose-gc dist/bench/timeline-scale.js` (about a minute; most of it
 * is the naive baseline's 100k upserts).
 * Writes bench/results/timeline-scale.json.
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Table from 'cli-table3';
import { Timeline } from '../src/actors/queue/timeline';
import { newId } from '../src/model/ids';

interface Result {
  workload: string;
  entries: number;
  /** RSS and V8 heap growth caused by the structure itself (job id strings excluded, see below). */
  rssBytes: number;
  heapBytes: number;
  /** Growth including the job id strings (which the scheduler's job table holds anyway). */
  rssWithIdsBytes: number;
  /** Whole-process RSS with the structure full. */
  rssProcessBytes: number;
  insertOpsPerSec: number;
  upsertOpsPerSec: number | null;
  removeOpsPerSec: number | null;
  popDueEntriesPerSec: number | null;
}

const OPS = 100_000;
const DAY = 86_400_000;
const T0 = Date.parse('2030-01-01T00:00:00Z');

/** mulberry32: a seeded PRNG, so every run times the same operations. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error('run with node --expose-gc');
  g();
  g();
}

function mem(): { rss: number; heap: number } {
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

function rate(n: number, startNs: bigint): number {
  return Math.round(n / (Number(process.hrtime.bigint() - startNs) / 1e9));
}

/** The same operation mix for every structure. */
interface Subject {
  upsert(id: string, at: number): void;
  remove(id: string): void;
  popDue(now: number, max: number): number;
  size(): number;
  /** Releases what the structure holds outside the heap (armed timers). */
  dispose?(): void;
}

function runWorkload(name: string, n: number, make: () => Subject, timed = true): Result {
  const m0 = mem();
  const ids = Array.from({ length: n }, (_, i) => newId('job', T0 + i));
  const random = rng(42);
  const times = Float64Array.from({ length: n }, () => T0 + Math.floor(random() * DAY));
  const m1 = mem();
  const s = make();
  let t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) s.upsert(ids[i]!, times[i]!);
  const insertOpsPerSec = rate(n, t);
  const m2 = mem();
  const result: Result = {
    workload: name, entries: n, rssBytes: m2.rss - m1.rss, heapBytes: m2.heap - m1.heap, rssWithIdsBytes: m2.rss - m0.rss, rssProcessBytes: m2.rss,
    insertOpsPerSec, upsertOpsPerSec: null, removeOpsPerSec: null, popDueEntriesPerSec: null,
  };
  if (!timed) {
    s.dispose?.();
    return result;
  }
  const ops = Math.min(OPS, n);
  t = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) s.upsert(ids[Math.floor(random() * n)]!, T0 + Math.floor(random() * DAY));
  result.upsertOpsPerSec = rate(ops, t);
  // Remove a spread of existing entries (every k-th id), not just the cheap end of the heap, and
  // at most half of them so popDue still has work at 100k.
  const removes = Math.min(OPS, Math.floor(n / 2));
  const step = Math.floor(n / removes);
  t = process.hrtime.bigint();
  for (let i = 0; i < removes; i++) s.remove(ids[i * step]!);
  result.removeOpsPerSec = rate(removes, t);
  const left = s.size();
  t = process.hrtime.bigint();
  let popped = 0;
  while (s.size() > 0) popped += s.popDue(T0 + DAY, 1000);
  result.popDueEntriesPerSec = rate(popped, t);
  if (popped !== left) throw new Error(`popDue lost entries: ${popped} of ${left}`);
  return result;
}

function timelineSubject(): Subject {
  const tl = new Timeline();
  return {
    upsert: (id, at) => tl.upsert(id, at),
    remove: (id) => void tl.remove(id),
    popDue: (now, max) => tl.popDue(now, max).length,
    size: () => tl.size,
  };
}

/** The naive baseline: objects in a sorted array, binary search + splice. */
function sortedArraySubject(): Subject {
  const list: Array<{ jobId: string; at: number }> = [];
  const where = new Map<string, number>(); // id → at, so removal can binary-search by time
  const lower = (at: number): number => {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.at < at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const remove = (id: string): void => {
    const at = where.get(id);
    if (at === undefined) return;
    for (let i = lower(at); i < list.length; i++) {
      if (list[i]!.jobId === id) {
        list.splice(i, 1);
        break;
      }
    }
    where.delete(id);
  };
  return {
    upsert: (id, at) => {
      remove(id);
      let i = lower(at);
      while (i < list.length && list[i]!.at === at) i++; // FIFO among equal times
      list.splice(i, 0, { jobId: id, at });
      where.set(id, at);
    },
    remove,
    popDue: (now, max) => {
      let k = 0;
      while (k < list.length && k < max && list[k]!.at <= now) k++;
      for (const e of list.splice(0, k)) where.delete(e.jobId);
      return k;
    },
    size: () => list.length,
  };
}

/** Per-job timers: a Map of armed setTimeouts (memory only; they never fire during the run). */
function timeoutsSubject(): Subject {
  const timers = new Map<string, NodeJS.Timeout>();
  const noop = (): void => undefined;
  return {
    upsert: (id, at) => {
      const old = timers.get(id);
      if (old !== undefined) clearTimeout(old);
      timers.set(id, setTimeout(noop, Math.min(2 ** 31 - 1, at - T0 + DAY)));
    },
    remove: (id) => {
      clearTimeout(timers.get(id));
      timers.delete(id);
    },
    popDue: () => 0,
    size: () => timers.size,
    dispose: () => {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}

const WORKLOADS: Record<string, () => Result> = {
  'timeline-1m': () => runWorkload('timeline-1m', 1_000_000, timelineSubject),
  'timeline-100k': () => runWorkload('timeline-100k', 100_000, timelineSubject),
  'sorted-array-100k': () => runWorkload('sorted-array-100k', 100_000, sortedArraySubject),
  'timeouts-100k': () => runWorkload('timeouts-100k', 100_000, timeoutsSubject, false),
};

function inChild(name: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--workload', name], { execArgv: ['--expose-gc'] });
    let result: Result | undefined;
    child.on('message', (m) => (result = m as Result));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`${name} exited ${code}`))));
  });
}

const mb = (b: number): string => (b / 1048576).toFixed(1);
const perEntry = (r: Result): number => Math.round(r.rssBytes / r.entries);
const k = (v: number | null): string => (v === null ? '—' : `${(v / 1000).toFixed(0)}k`);

async function main(): Promise<void> {
  const i = process.argv.indexOf('--workload');
  if (i >= 0) {
    const run = WORKLOADS[process.argv[i + 1] ?? ''];
    if (run === undefined) throw new Error(`unknown workload ${process.argv[i + 1]}`);
    // Exit explicitly once the parent has the result: nothing left in this process matters.
    process.send!(run(), () => process.exit(0));
    return;
  }
  const results: Result[] = [];
  for (const name of Object.keys(WORKLOADS)) results.push(await inChild(name));
  const by = Object.fromEntries(results.map((r) => [r.workload, r])) as Record<string, Result>;
  const table = new Table({ style: { head: [], border: [] }, head: ['workload', 'entries', 'RSS MB', 'heap MB', 'B/entry', 'RSS+ids MB', 'process RSS MB', 'insert/s', 'upsert/s', 'remove/s', 'popDue/s'] });
  for (const r of results) {
    table.push([r.workload, r.entries.toLocaleString('en'), mb(r.rssBytes), mb(r.heapBytes), perEntry(r), mb(r.rssWithIdsBytes), mb(r.rssProcessBytes),
      k(r.insertOpsPerSec), k(r.upsertOpsPerSec), k(r.removeOpsPerSec), k(r.popDueEntriesPerSec)]);
  }
  const t100 = by['timeline-100k']!;
  const arr = by['sorted-array-100k']!;
  const ratios = {
    'upsert timeline-100k / sorted-array-100k': +(t100.upsertOpsPerSec! / arr.upsertOpsPerSec!).toFixed(1),
    'remove timeline-100k / sorted-array-100k': +(t100.removeOpsPerSec! / arr.removeOpsPerSec!).toFixed(1),
    'upsert timeline-1m / sorted-array-100k': +(by['timeline-1m']!.upsertOpsPerSec! / arr.upsertOpsPerSec!).toFixed(1),
    'bytes/entry timeouts-100k / timeline-1m': +(perEntry(by['timeouts-100k']!) / perEntry(by['timeline-1m']!)).toFixed(1),
  };
  console.log(table.toString());
  for (const [name, v] of Object.entries(ratios)) console.log(`${name}: ${v}x`);
  const out = path.join(__dirname, '..', '..', 'bench', 'results', 'timeline-scale.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({
    benchmark: 'timeline-scale', date: new Date().toISOString(), node: process.version,
    cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null, results, ratios,
  }, null, 2)}\n`);
  console.log(`written ${path.relative(process.cwd(), out)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
