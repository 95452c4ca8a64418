/**
 * Polls `f` in real time until `pred` holds for its value; between polls `step` (default: 50 ms of
 * real time — give one that advances a virtual clock when the awaited thing is timed on it). Fails
 * with the last value after `ms`.
 */
export async function until<T>(what: string, f: () => Promise<T> | T, pred: (v: T) => boolean, ms = 30_000, step?: () => Promise<void>): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await f();
    if (pred(last)) return last;
    await (step ? step() : new Promise((r) => setTimeout(r, 50)));
  }
  throw new Error(`${what} never held; last: ${JSON.stringify(last)}`);
}
