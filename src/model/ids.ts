
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

function base32(n: number, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = ALPHABET[n % 32] + out;
    n = Math.floor(n / 32);
  }
  return out;
}

/**
 * Monotonic state of {@link newId}. Module-level on purpose: ids from every scheduler in the process
 * must sort in creation order even within one millisecond (a virtual clock makes thousands of ids
 * in the same ms), and that order is a property of the process, not of one instance.
 */
const monotonic = { time: -1, seq: 0 };

/**
 * Random bytes for ids, drawn 4 KiB at a time: one `randomBytes(8)` call per id cost more than the
 * rest of making a run on the hot path (a CSPRNG call each; lmdb-free profile of `runNow`).
 */
const pool = { buf: Buffer.alloc(4096), at: 4096 };

function random8(): Buffer {
  if (pool.at + 8 > pool.buf.length) {
    // node:crypto on first use: a CLI read that makes no id does not load it (~20 ms).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('node:crypto') as typeof import('node:crypto')).randomFillSync(pool.buf);
    pool.at = 0;
  }
  const out = pool.buf.subarray(pool.at, pool.at + 8);
  pool.at += 8;
  return out;
}

/**
 * Time-sortable ids (ULID-like): 10 chars of base-32 time, 4 of a sequence within that millisecond,
 * then 8 random chars. Sorting ids lexicographically sorts them by creation time — also within one
 * millisecond, and even if the clock goes back — which the store relies on for "newest first".
 * `prefix` makes ids self-describing (`job_…`, `run_…`).
 */
export function newId(prefix: string, nowMs: number = Date.now()): string {
  let t = Math.max(0, Math.floor(nowMs));
  if (t <= monotonic.time) {
    t = monotonic.time;
    monotonic.seq++;
    if (monotonic.seq >= 32 ** 4) {
      t++;
      monotonic.seq = 0;
    }
  } else {
    monotonic.seq = 0;
  }
  monotonic.time = t;
  let rand = '';
  for (const b of random8()) rand += ALPHABET[b % 32];
  return `${prefix}_${base32(t, 10)}${base32(monotonic.seq, 4)}${rand}`;
}
