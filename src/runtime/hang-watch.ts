/**
 * The hang watchdog of one mailbox: ONE real-time timer for all its messages in flight, not one per
 * message. A message that starts is stamped (performance.now) and appended to a list; one that
 * ends is marked done (the list is emptied when nothing is in flight, compacted when mostly done) —
 * no timer is created or cleared per message, no hash set churns (a Node timer per message, created
 * and cleared, was most of what supervision added to a main-thread ask: `node
 * dist/bench/run-path-count.js --per-message`).
 * The timer fires at the earliest deadline; then every message past its deadline is reported hung,
 * and the timer is set again for the next deadline, if any message is still in flight.
 *
 * The timer keeps the process alive only while messages are in flight (ref'd then, unref'd when the
 * list empties: a counter, not a timer operation); an idle mailbox's timer fires once and is not set
 * again. Real time on purpose: a virtual clock stands still while a handler hangs.
 * @internal
 */

/** One message in flight under the watchdog. */
export interface Watched<T = unknown> {
  type: string;
  /** What runs it (the incarnation), for the report. */
  subject: T;
  /** Its deadline, ms after `since`. */
  ms: number;
  /** performance.now() when it started (or when its deadline was last restarted). */
  since: number;
  /** Reported hung already. */
  barked: boolean;
  done: boolean;
}

/** The watchdog of one mailbox. @internal */
export class HangWatch<T> {
  /** Messages started, in order; those `done` are dropped lazily. */
  #list: Array<Watched<T>> = [];
  /** Of which not done. */
  #live = 0;
  /** Called for a message past its deadline: true if it is hung (reported), false to give it another `ms`. */
  readonly #onLate: (w: Watched<T>) => boolean;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** performance.now() at which the timer fires. */
  #due = Infinity;

  constructor(onLate: (w: Watched<T>) => boolean) {
    this.#onLate = onLate;
  }

  /** A message of `type` with deadline `ms` starts now; call {@link end} with the result when it ends. */
  start(type: string, ms: number, subject: T): Watched<T> {
    const w: Watched<T> = { type, ms, subject, since: performance.now(), barked: false, done: false };
    this.#list.push(w);
    this.#live++;
    const due = w.since + ms;
    if (this.#timer === null || due < this.#due) this.#arm(due);
    else if (this.#live === 1) this.#timer.ref();
    return w;
  }

  end(w: Watched<T>): void {
    if (w.done) return;
    w.done = true;
    if (--this.#live === 0) {
      this.#list.length = 0;
      this.#timer?.unref();
    } else if (this.#list.length > 64 && this.#list.length > 2 * this.#live) {
      // Several in flight that never all end at once (a concurrent actor): compact, amortised O(1).
      this.#list = this.#list.filter((x) => !x.done);
    }
  }

  /** Stops the timer (the mailbox is gone). */
  dispose(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#list = [];
    this.#live = 0;
  }

  #arm(due: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#due = due;
    this.#timer = setTimeout(() => this.#check(), Math.max(0, due - performance.now()));
  }

  #check(): void {
    this.#timer = null;
    this.#due = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const w of this.#list) {
      if (w.barked || w.done) continue;
      if (now - w.since >= w.ms) {
        if (this.#onLate(w)) {
          w.barked = true;
          continue;
        }
        w.since = now;
      }
      next = Math.min(next, w.since + w.ms);
    }
    if (next < Infinity) this.#arm(next);
  }
}
