/**
 * Cursor pagination of lists: `?limit=N&after=ID` returns at most N items whose id comes after ID in
 * the list's order. Ids sort in creation order (src/model/ids.ts), so a cursor stays valid when the
 * item it names is removed meanwhile — the next page starts at the first id past it.
 */

/** The query of a paginated list. */
export interface PageQuery {
  limit?: number;
  after?: string;
}

/** One page. `next` is the cursor of the following page (null on the last one). */
export interface Page<T> {
  items: T[];
  next: string | null;
  /**
   * Items in the whole (filtered) list; -1 when the source was read only as far as needed (then a
   * full page always has a `next`, which may lead to an empty last page).
   */
  total: number;
}

/**
 * Cuts one page out of `items` (already in `order` of their ids: ascending for jobs, descending —
 * newest first — for runs).
 */
export function paginate<T extends { id: string }>(
  items: T[],
  q: PageQuery,
  opts: { defaultLimit: number; order: 'ascending' | 'descending'; counted?: boolean },
): Page<T> {
  const limit = q.limit ?? opts.defaultLimit;
  const after = q.after;
  const rest = after === undefined
    ? items
    : items.filter((it) => (opts.order === 'ascending' ? it.id > after : it.id < after));
  const page = rest.slice(0, limit);
  const more = opts.counted === false ? page.length === limit : rest.length > limit;
  const next = more && page.length > 0 ? page[page.length - 1]!.id : null;
  return { items: page, next, total: opts.counted === false ? -1 : items.length };
}
