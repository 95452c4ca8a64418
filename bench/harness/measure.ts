/** Measuring inside a child: elapsed time, memory after gc, RSS split, RSS sampling. */
import { readFileSync } from 'node:fs';

/** Milliseconds since `startNs` (a `process.hrtime.bigint()` reading). */
export function msSince(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}

/** Full gc twice (a second pass collects what the first one's finalizers freed). Needs --expose-gc. */
export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error('run with node --expose-gc');
  g();
  g();
}

/** Memory of this process after a full gc: RSS split into anonymous and file-backed where Linux says. */
export interface Memory { rss: number; rssAnon: number | null; rssFile: number | null; heap: number }

/** {@link Memory} after gc (LMDB's map counts as file-backed RSS). */
export function memory(): Memory {
  gc();
  const m = process.memoryUsage();
  let rssAnon: number | null = null;
  let rssFile: number | null = null;
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (k: string): number | null => {
      const hit = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status);
      return hit ? Number(hit[1]) * 1024 : null;
    };
    rssAnon = kb('RssAnon');
    rssFile = kb('RssFile');
  } catch {
    // Not Linux: total RSS only.
  }
  return { rss: m.rss, rssAnon, rssFile, heap: m.heapUsed };
}

/** Samples this process's RSS every `everyMs` until stopped; `max()` is the peak seen. */
export function rssSampler(everyMs = 500): { max(): number; stop(): number } {
  let peak = process.memoryUsage.rss();
  const t = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, everyMs);
  t.unref();
  return {
    max: () => peak,
    stop: () => {
      clearInterval(t);
      peak = Math.max(peak, process.memoryUsage.rss());
      return peak;
    },
  };
}

/** Resolves after `ms` (real time: benchmarks measure the real clock). */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Megabytes (MiB) with one decimal. */
export const mb = (b: number): number => Math.round((b / 1048576) * 10) / 10;
