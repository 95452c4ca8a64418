/**
 * Reads the store's data file ahead, sequentially, while start-up scans every job. The environment
 * is opened with `noReadAhead` (tables.ts: reads are point look-ups spread over the file, and the
 * kernel's read-ahead would map whole neighbourhoods into RSS), so after a reboot the scan's cursor
 * takes one 4 KB page fault at a time from disk: with 1,000,000 jobs the persistence thread spent
 * 8.1 s of CPU and most of a 40 s start-up in those faults. Reading the file once from start to end
 * through a plain file descriptor costs under a second on the same disk (768 MB in 0.93 s, cold)
 * and fills the page cache, so the cursor's faults are minor ones (measured: persistence thread
 * 8.1 → 4.4 s CPU, start-up 39.6 → 27.6 s wall, load 8–10). The pages go to the page cache, not to
 * this process's RSS: only what the cursor touches is mapped.
 *
 * Bounded: only a file smaller than half the memory the system has available (and than 8 GiB) is
 * read; the read stops as soon as the scan ends. Failures are ignored (it is only a hint).
 * @internal
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

const MAX_BYTES = 8 * 1024 ** 3;
const CHUNK = 1 << 20;

/** A read of the file ahead; `stop()` ends it (idempotent). */
export interface Prefetch {
  stop(): void;
}

/** Starts reading `file` ahead (or nothing, when it is too big for the memory available or absent). */
export function prefetchFile(file: string): Prefetch {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return { stop: () => undefined };
  }
  if (size > MAX_BYTES || size > os.freemem() / 2) return { stop: () => undefined };
  const stream = fs.createReadStream(file, { highWaterMark: CHUNK });
  stream.on('data', () => undefined);
  stream.on('error', () => undefined);
  return { stop: () => stream.destroy() };
}
