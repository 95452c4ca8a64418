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
  return { rss: m.rss, ...rssSplit(), heap: m.heapUsed };
}

/**
 * This process's RSS split as Linux reports it, now (no gc): anonymous (heaps, buffers) and
 * file-backed (mapped files: LMDB's map of the store — pages of the data file the process touched,
 * which the kernel may drop and read again). Null where /proc says nothing (not Linux).
 */
export function rssSplit(): { rssAnon: number | null; rssFile: number | null } {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (k: string): number | null => {
      const hit = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status);
      return hit ? Number(hit[1]) * 1024 : null;
    };
    return { rssAnon: kb('RssAnon'), rssFile: kb('RssFile') };
  } catch {
    return { rssAnon: null, rssFile: null };
  }
}

/**
 * Samples this process's RSS every `everyMs` until stopped; `max()` is the peak seen. `split()`:
 * the peaks of its anonymous and file-backed parts (each its own peak; null where Linux says nothing).
 */
export function rssSampler(everyMs = 500): { max(): number; stop(): number; split(): { anon: number | null; file: number | null } } {
  let peak = process.memoryUsage.rss();
  let anon: number | null = null;
  let file: number | null = null;
  const sample = (): void => {
    peak = Math.max(peak, process.memoryUsage.rss());
    const s = rssSplit();
    if (s.rssAnon !== null) anon = Math.max(anon ?? 0, s.rssAnon);
    if (s.rssFile !== null) file = Math.max(file ?? 0, s.rssFile);
  };
  sample();
  const t = setInterval(sample, everyMs);
  t.unref();
  return {
    max: () => peak,
    stop: () => {
      clearInterval(t);
      sample();
      return peak;
    },
    split: () => ({ anon, file }),
  };
}

/** Resolves after `ms` (real time: benchmarks measure the real clock). */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Megabytes (MiB) with one decimal. */
export const mb = (b: number): number => Math.round((b / 1048576) * 10) / 10;
