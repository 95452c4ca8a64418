/**
 * The Clock of a thread actor when its system runs on a {@link VirtualClock} (tests): a test's
 * virtual time lives on the main thread, so the thread reads it from memory shared with the
 * main clock ({@link VirtualClock.shared}: `now()` and `monotonic()` stay synchronous) and
 * registers its timers with the main clock over a MessagePort. The main clock fires them in due
 * order with every other timer, and `advance()` waits for the thread to settle after each
 * (ActorSystem.quiescent asks every such thread whether it is quiet).
 *
 * With a real clock no proxy is needed: the thread uses its own SystemClock (same wall clock,
 * monotonic origin of its own: only differences of `monotonic()` are meaningful).
 * @internal
 */
import { startsAsyncWork, type Clock, type TimerHandle, type VirtualClock } from './clock';
import { counted, type ClockBoot, type MessagePortLike, type Traffic } from './wire';

/** Thread actor → main clock. */
export type ClockRequest =
  | { kind: 'set'; id: number; dueMono: number }
  | { kind: 'clear'; id: number };

/** Main clock → thread actor. */
export type ClockReply = { kind: 'fire'; id: number };

/**
 * Thread actor → main clock, after running a fired timer: whether it started asynchronous work or
 * sent anything on another channel (then the main clock settles, asking the thread whether it is
 * quiet); sent on the clock port, after the `set`s the callback made, so they are registered first.
 */
export type ClockFired = { kind: 'fired'; id: number; busy: boolean };

/**
 * Main side: serves a thread's clock port on `clock`. Returns a function that stops serving and
 * clears the thread's timers (its incarnation ended).
 */
export function serveClock(port: MessagePortLike & { close(): void }, clock: VirtualClock, traffic: Traffic): () => void {
  const out = counted(port, traffic);
  const timers = new Map<number, TimerHandle>();
  const firing = new Map<number, (busy: boolean) => void>();
  let open = true;
  port.on('message', (m) => {
    traffic.got();
    const req = m as ClockRequest | ClockFired;
    if (req.kind === 'fired') {
      firing.get(req.id)?.(req.busy);
      firing.delete(req.id);
      return;
    }
    if (req.kind === 'clear') {
      const h = timers.get(req.id);
      if (h !== undefined) clock.clearTimeout(h);
      timers.delete(req.id);
      return;
    }
    timers.set(req.id, clock.setRemoteTimeout(() => {
      timers.delete(req.id);
      if (!open) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        firing.set(req.id, resolve);
        out.postMessage({ kind: 'fire', id: req.id } satisfies ClockReply);
      });
    }, req.dueMono - clock.monotonic()));
  });
  return () => {
    open = false;
    // The thread is gone: a fire it will never answer must not hold the clock.
    for (const resolve of firing.values()) resolve(true);
    firing.clear();
    for (const h of timers.values()) clock.clearTimeout(h);
    timers.clear();
    port.close();
  };
}

/** Thread side: a Clock over shared time and a timer port. */
export class PortClock implements Clock {
  readonly #shared: Float64Array;
  readonly #port: MessagePortLike;
  readonly #timers = new Map<number, () => void>();
  readonly #onFirstUse: () => void;
  #used = false;
  #next = 1;
  /** Messages this clock posted while a fired callback ran. */
  #posted = 0;

  constructor(boot: ClockBoot, traffic: Traffic, onFirstUse: () => void) {
    this.#shared = boot.shared;
    this.#port = counted(boot.port, traffic);
    this.#onFirstUse = onFirstUse;
    boot.port.on('message', (m) => {
      traffic.got();
      const r = m as ClockReply;
      const cb = this.#timers.get(r.id);
      this.#timers.delete(r.id);
      const sent = traffic.sent;
      this.#posted = 0;
      const async = cb !== undefined && startsAsyncWork(cb);
      // Posts on the clock port (re-arming) are ordered before this reply: only other ones count.
      const busy = async || traffic.sent - sent > this.#posted;
      this.#port.postMessage({ kind: 'fired', id: r.id, busy } satisfies ClockFired);
    });
  }

  now(): number {
    return this.#shared[0] as number;
  }
  monotonic(): number {
    return this.#shared[1] as number;
  }
  setTimeout(cb: () => void, ms: number): TimerHandle {
    if (!this.#used) {
      this.#used = true;
      this.#onFirstUse();
    }
    const id = this.#next++;
    this.#timers.set(id, cb);
    this.#posted++;
    this.#port.postMessage({ kind: 'set', id, dueMono: this.monotonic() + Math.max(0, ms) } satisfies ClockRequest);
    return { id };
  }
  clearTimeout(handle: TimerHandle): void {
    if (!this.#timers.delete(handle.id)) return;
    this.#posted++;
    this.#port.postMessage({ kind: 'clear', id: handle.id } satisfies ClockRequest);
  }
}
