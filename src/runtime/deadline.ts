/**
 * The one real-time deadline on a promise. Used where a wait must end even though the thing waited
 * for may never answer: a native watcher call on a hung network file system, a shutdown step, the
 * monitor's mailbox behind a saturated main thread. Real time on purpose (as the hang watchdog and
 * the heartbeats): a virtual clock stands still while a handler hangs, so a deadline on it could
 * never pass. Asks between actors have their own deadline on the system's Clock (`AskOptions`).
 *
 * The timer is cleared as soon as `p` settles, so a race that ends early leaves nothing behind.
 */

/** What {@link withDeadline} answers when the deadline passed first. */
export const LATE: unique symbol = Symbol('late');

/** Options of {@link withDeadline}. */
export interface DeadlineOptions {
  /** The deadline's timer does not keep the process alive (a background wait). @default false */
  unref?: boolean;
}

/**
 * `p`'s value, or {@link LATE} once `ms` of real time passed first. A rejection of `p` before the
 * deadline rejects; one after it is the caller's to ignore (attach a handler to `p` if it may reject).
 * @example
 * const r = await withDeadline(sub.unsubscribe(), 5000, { unref: true });
 * if (r === LATE) logger.warn('unsubscribe did not answer in time');
 */
export async function withDeadline<T>(p: Promise<T>, ms: number, opts: DeadlineOptions = {}): Promise<T | typeof LATE> {
  let t: NodeJS.Timeout | undefined;
  const late = new Promise<typeof LATE>((resolve) => {
    t = setTimeout(() => resolve(LATE), ms);
    if (opts.unref === true) t.unref();
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(t);
  }
}
