/**
 * Checks a data directory's LMDB files BEFORE they are mapped. LMDB trusts its file: a truncated
 * `data.mdb` is mapped past its end (SIGBUS on the first read), zeroed meta pages crash it or make it
 * start an empty store over the real one, and a directory where a file should be leaves the opener
 * failing deep in native code. Each of those is refused here with ONE line naming the file and what
 * to do (issue 9 item 4).
 *
 * What is checked (LMDB's on-disk format as lmdb-js v3 writes it, LMDB "mdb.master3"):
 * - `<dataDir>/store` is a directory (or absent: a new store), `data.mdb` and `lock.mdb` are
 *   regular files (or absent);
 * - `data.mdb` holds at least its two meta pages; each meta page carries the magic 0xBEEFC0DE and a
 *   known format version; the newest valid one's last page lies inside the file (no truncation);
 * - for a writer: the directory and the files are writable.
 * A store that passes can still be damaged inside (a torn data page): `rae-sched doctor` reads it
 * all in a separate process, where a crash is contained and reported.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PersistenceError } from '../../errors';
import { STORE_DIR } from './store-dir';

/** LMDB's meta page magic (MDB_MAGIC). */
const MDB_MAGIC = 0xbeefc0de;
/** Data format versions this build can read (MDB_DATA_VERSION of the LMDB inside lmdb-js). */
const KNOWN_VERSIONS: ReadonlySet<number> = new Set([1, 2]);
/** Page header size in master3 (pgno, txnid, pad, flags, lower, upper) and the meta field offsets after it. */
const HEADER = 24;
const OFF = { magic: 0, version: 4, psize: 24, lastPg: 120, txnid: 128 } as const;
const META_BYTES = HEADER + 136;
/** Page sizes LMDB may have used (it takes the OS page size). */
const PAGE_SIZES = [4096, 8192, 16384, 32768, 65536];

/** What a valid meta page says. */
interface Meta {
  psize: number;
  lastPg: bigint;
  txnid: bigint;
}

/** What to tell an operator after a failed check. */
const WHAT_TO_DO = 'restore it from a backup (see `rae-sched doctor` and docs/operations.md "Recovering a store")';

function fail(file: string, what: string): never {
  throw new PersistenceError(`store file ${file} ${what}: ${WHAT_TO_DO}`);
}

function readMeta(buf: Buffer, at: number): Meta | 'bad-magic' | { version: number } {
  if (buf.length < at + META_BYTES) return 'bad-magic';
  const m = at + HEADER;
  if (buf.readUInt32LE(m + OFF.magic) !== MDB_MAGIC) return 'bad-magic';
  const version = buf.readUInt32LE(m + OFF.version);
  if (!KNOWN_VERSIONS.has(version)) return { version };
  return { psize: buf.readUInt32LE(m + OFF.psize), lastPg: buf.readBigUInt64LE(m + OFF.lastPg), txnid: buf.readBigUInt64LE(m + OFF.txnid) };
}

const isMeta = (m: ReturnType<typeof readMeta>): m is Meta => typeof m === 'object' && 'psize' in m;

/** Checks `data.mdb` (a regular file of `size` bytes) without mapping it. */
function checkDataFile(file: string, size: number): void {
  if (size === 0) fail(file, 'is empty (0 bytes): the store was truncated or never finished being created');
  const fd = fs.openSync(file, 'r');
  let buf: Buffer;
  try {
    buf = Buffer.alloc(Math.min(size, 2 * PAGE_SIZES[PAGE_SIZES.length - 1]!));
    fs.readSync(fd, buf, 0, buf.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  const first = readMeta(buf, 0);
  if (typeof first === 'object' && 'version' in first && !isMeta(first)) {
    fail(file, `was written by an LMDB with an unknown data format (version ${first.version})`);
  }
  const sizes = isMeta(first) ? [first.psize] : PAGE_SIZES;
  let second: ReturnType<typeof readMeta> = 'bad-magic';
  for (const psize of sizes) {
    second = readMeta(buf, psize);
    if (isMeta(second)) break;
  }
  const metas = [first, second].filter(isMeta);
  if (metas.length === 0) {
    fail(file, size < 2 * 4096
      ? `is truncated (${size} bytes, less than its two meta pages)`
      : 'has no valid LMDB meta page (its first pages are damaged or zeroed)');
  }
  const newest = metas.reduce((a, b) => (b.txnid > a.txnid ? b : a));
  if (!PAGE_SIZES.includes(newest.psize)) fail(file, `has a damaged meta page (page size ${newest.psize})`);
  const needed = (newest.lastPg + 1n) * BigInt(newest.psize);
  if (BigInt(size) < needed) {
    fail(file, `is truncated (${size} bytes, its last committed page ends at byte ${needed})`);
  }
}

/**
 * Checks the store files of `dataDir` (see the module doc). Absent files are fine: a new store.
 * @throws PersistenceError with one line naming the file and what to do.
 */
export function checkStoreFiles(dataDir: string, opts: { readOnly?: boolean } = {}): void {
  const dir = path.join(dataDir, STORE_DIR);
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new PersistenceError(`cannot read the store directory ${dir} (${code}): check its permissions`);
  }
  if (!st.isDirectory()) {
    throw new PersistenceError(`store path ${dir} is not a directory: move it away, then restore a backup or start a new store`);
  }
  for (const name of ['data.mdb', 'lock.mdb']) {
    const file = path.join(dir, name);
    let fst: fs.Stats;
    try {
      fst = fs.statSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      throw new PersistenceError(`cannot read store file ${file} (${code}): check its permissions`);
    }
    if (!fst.isFile()) {
      throw new PersistenceError(`store file ${file} is not a regular file: move it away, then ${WHAT_TO_DO}`);
    }
    try {
      fs.accessSync(file, opts.readOnly ? fs.constants.R_OK : fs.constants.R_OK | fs.constants.W_OK);
    } catch (err) {
      throw new PersistenceError(`cannot ${opts.readOnly ? 'read' : 'write'} store file ${file} (${(err as NodeJS.ErrnoException).code}): check its permissions and the file system`);
    }
    if (name === 'data.mdb') checkDataFile(file, fst.size);
  }
  if (!opts.readOnly) {
    try {
      fs.accessSync(dir, fs.constants.W_OK);
    } catch (err) {
      throw new PersistenceError(`cannot write in the store directory ${dir} (${(err as NodeJS.ErrnoException).code}): check its permissions and the file system`);
    }
  }
}
