/**
 * Cooperative time-slicing of a thread's event loop. Every main-thread actor shares ONE event
 * loop with the control API (fastify), the timers and the replies of the thread actors: a handler
 * that works 500 ms through a batch of 10,000 fires, or a mailbox drained message after message in
 * microtasks, holds all of them for that long. So long work asks {@link sliceDue} between units
 * (a message, an entry of a batch) and, once the current slice has run past its budget, awaits
 * {@link nextSlice}: a macrotask (`setImmediate`), in which the loop serves pending I/O and timers
 * first — an HTTP `health` request is answered between two chunks of a burst.
 *
 * A slice begins at the first check after the loop turned (or when a yielder resumes: each one
 * gets a fresh budget, so two yielding actors cannot starve each other), and the first check of a
 * slice is never due, so every slice makes progress even with a budget of 0. Yielding never
 * reorders anything: the caller holds its place (an actor its mailbox slot) while it waits.
 *
 * One tracker per thread (a module instance per thread): the event loop is the thread's.
 * @internal
 */

/** Default budget of one slice, ms: the loop turns at least about this often under load. */
export const DEFAULT_SLICE_BUDGET_MS = 10;

let budgetMs = DEFAULT_SLICE_BUDGET_MS;
/** performance.now() at the start of the current slice; -1: no slice open. */
let sliceStart = -1;
/** A check of the current slice has already said "not due" (progress was allowed). */
let checked = false;
let closePending = false;

function closeSlice(): void {
  closePending = false;
  sliceStart = -1;
}

function openSlice(now: number): void {
  sliceStart = now;
  checked = false;
  if (!closePending) {
    // The loop has turned once this runs: the next check opens a new slice.
    closePending = true;
    setImmediate(closeSlice);
  }
}

/**
 * True when the current slice has used its budget: the caller should `await nextSlice()` before
 * its next unit of work. The first check of a slice is always false. Costs one `performance.now()`.
 */
export function sliceDue(): boolean {
  const now = performance.now();
  if (sliceStart < 0) openSlice(now);
  if (!checked) {
    checked = true;
    return false;
  }
  return now - sliceStart >= budgetMs;
}

/** Resolves in a later macrotask (after pending I/O and timers), with a fresh slice for the caller. */
export function nextSlice(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(() => {
    openSlice(performance.now());
    resolve();
  }));
}

/** Awaits {@link nextSlice} only when {@link sliceDue}: `await yieldIfDue()` between units of work. */
export function yieldIfDue(): Promise<void> | undefined {
  return sliceDue() ? nextSlice() : undefined;
}

/** What {@link runSliced} does around each yield. */
export interface SliceHooks {
  /** Called before yielding (e.g. send what the slice collected, so it proceeds meanwhile). */
  beforeYield?(): void;
  /** Called on resuming, before the next item. */
  afterYield?(): void;
}

/**
 * `fn` over `items` in order, in time slices: synchronous while the slice lasts (then it returns
 * undefined and nothing was deferred); once the slice is due, the rest continues after
 * {@link nextSlice} and the returned promise settles when every item is done (or rejects with the
 * first error `fn` throws there; a throw before the first yield is thrown synchronously).
 * Iterators are pulled lazily, one item at a time, so a generator sees the state the previous
 * items left behind.
 */
export function runSliced<T>(items: Iterable<T>, fn: (item: T) => void, hooks: SliceHooks = {}): Promise<void> | undefined {
  if (Array.isArray(items)) return runSlicedArray(items as T[], fn, hooks, 0);
  const it = items[Symbol.iterator]();
  const step = (): Promise<void> | undefined => {
    for (;;) {
      const r = it.next();
      if (r.done === true) return undefined;
      if (sliceDue()) {
        hooks.beforeYield?.();
        return nextSlice().then(() => {
          hooks.afterYield?.();
          fn(r.value);
          return step();
        });
      }
      fn(r.value);
    }
  };
  return step();
}

/**
 * {@link runSliced} over an array, by index: an iterator's result object per item (kept alive by
 * the closure of the yield branch) was a few of the hot path's allocations per run.
 */
function runSlicedArray<T>(items: readonly T[], fn: (item: T) => void, hooks: SliceHooks, from: number): Promise<void> | undefined {
  for (let i = from; i < items.length; i++) {
    if (sliceDue()) {
      hooks.beforeYield?.();
      return nextSlice().then(() => {
        hooks.afterYield?.();
        fn(items[i]!);
        return runSlicedArray(items, fn, hooks, i + 1);
      });
    }
    fn(items[i]!);
  }
  return undefined;
}

/**
 * Sets this thread's slice budget (ms, >= 0) and returns the previous one. 0 yields after every
 * unit of work: tests use it to make interleavings happen deterministically.
 */
export function setSliceBudget(ms: number): number {
  if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`slice budget must be a finite number >= 0, got ${String(ms)}`);
  const previous = budgetMs;
  budgetMs = ms;
  return previous;
}
