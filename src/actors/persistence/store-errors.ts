/**
 * What a failed LMDB commit means, in one line. lmdb-js rejects every write of a failed batch with
 * "Commit failed (see commitError for details)" and puts the real error on a separate promise
 * (`commitError`) that nobody awaits — an unhandled rejection that kills the persistence thread.
 * This reads (and so handles) that promise, and names a full disk as such (issue 9 item 5).
 * @internal
 */
import { statfsSync } from 'node:fs';
import { PersistenceError } from '../../errors';
import { LATE, withDeadline } from '../../runtime/deadline';

/** Codes and texts of "the file system has no room". */
const FULL = /ENOSPC|EDQUOT|No space left on device|Disk quota exceeded|MDB_MAP_FULL/i;
/** How long to wait for lmdb's write thread to report the underlying error. */
const DETAIL_WAIT_MS = 5000;

async function underlying(err: unknown): Promise<unknown> {
  const detail = (err as { commitError?: unknown } | null)?.commitError;
  if (!(detail instanceof Promise)) return err;
  const real = await withDeadline(detail.then(() => err, (e: unknown) => e), DETAIL_WAIT_MS);
  return real === LATE ? err : real;
}

/** Whether `err` (or its message) says the disk is full. */
export function isDiskFull(err: unknown): boolean {
  const e = err as (NodeJS.ErrnoException & { message?: string }) | null;
  return FULL.test(`${e?.code ?? ''} ${e?.message ?? String(err)}`);
}

/** Free bytes on the file system of `where`, or null when it cannot be told. */
function freeBytes(where: string): number | null {
  try {
    const s = statfsSync(where);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/**
 * The PersistenceError to throw for a failed store write. LMDB reports a full disk as ENOSPC, or —
 * when the failure hits while it spills dirty pages — as EIO; an EIO with (almost) no free space
 * left is reported as the full disk it is.
 */
export async function writeFailure(err: unknown, where: string): Promise<PersistenceError> {
  const real = await underlying(err);
  const eio = /Input\/output error|EIO/.test(`${(real as NodeJS.ErrnoException)?.code ?? ''} ${(real as Error)?.message ?? ''}`);
  const free = freeBytes(where);
  if (isDiskFull(real) || (eio && free !== null && free < 1024 * 1024)) {
    return new PersistenceError(
      `the disk holding the store is full (ENOSPC): nothing was written; free space on the file system of ${where} ` +
        '(`rae-sched doctor` shows it) and try again',
      { cause: real },
    );
  }
  return new PersistenceError(`store write failed: ${(real as Error)?.message ?? String(real)}`, { cause: real });
}
