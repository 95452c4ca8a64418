/**
 * Paging of `listJobs`: an opaque cursor naming the last job of a page. Jobs are listed in id order,
 * and ids sort by creation time, so a job added later always lands after every cursor already handed
 * out: paging through a store while jobs are added neither repeats nor skips the jobs that were there.
 */
import { ValidationError } from '../errors';

/** Jobs per page when `after` is given without `limit`. */
export const DEFAULT_PAGE = 100;
/** Largest page. */
export const MAX_PAGE = 10_000;

const PREFIX = 'j1.';

/** The cursor that continues after the job `lastId`. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(PREFIX + lastId, 'utf8').toString('base64url');
}

/**
 * The job id a cursor continues after.
 * @throws ValidationError (field `after`) when it is not a cursor this scheduler handed out.
 */
export function decodeCursor(cursor: unknown, field = 'after'): string {
  const bad = (): never => {
    throw new ValidationError(`${field}: '${String(cursor).slice(0, 80)}' is not a cursor from a previous page of the job list`, field);
  };
  if (typeof cursor !== 'string' || cursor === '' || !/^[A-Za-z0-9_-]+$/.test(cursor)) return bad();
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(PREFIX) || text.length === PREFIX.length) return bad();
  return text.slice(PREFIX.length);
}

/**
 * A page size given by a caller.
 * @throws ValidationError (field `limit`) unless it is an integer from 1 to {@link MAX_PAGE}.
 */
export function checkPageLimit(limit: unknown, field = 'limit'): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new ValidationError(`${field}: expected a whole number from 1 to ${MAX_PAGE}, got ${String(limit)}`, field);
  }
  return limit;
}
