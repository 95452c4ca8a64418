
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
  // Written as bytes and read back as ONE flat string: built by concatenation, an id was ~25
  // short strings and a rope, flattened again by every Map lookup and thread copy of it.
  const n = prefix.length;
  if (n + 23 > idBytes.length) return `${prefix}_${base32(t, 10)}${base32(monotonic.seq, 4)}${randomChars()}`;
  for (let i = 0; i < n; i++) idBytes[i] = prefix.charCodeAt(i);
  idBytes[n] = 0x5f; // '_'
  putBase32(t, n + 1, 10);
  putBase32(monotonic.seq, n + 11, 4);
  const rand = random8();
  for (let i = 0; i < 8; i++) idBytes[n + 15 + i] = ALPHABET_CODES[rand[i]! % 32]!;
  return idBytes.toString('latin1', 0, n + 23);
}

/** Where {@link newId} writes an id (ids are ASCII; prefixes are short words). */
const idBytes = Buffer.alloc(64);
const ALPHABET_CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));

/** `n` in base 32, `width` chars, most significant first, at `at` of {@link idBytes}. */
function putBase32(n: number, at: number, width: number): void {
  for (let i = width - 1; i >= 0; i--) {
    idBytes[at + i] = ALPHABET_CODES[n % 32]!;
    n = Math.floor(n / 32);
  }
}

function randomChars(): string {
  let rand = '';
  for (const b of random8()) rand += ALPHABET[b % 32];
  return rand;
}
