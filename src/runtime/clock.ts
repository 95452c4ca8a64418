/**
 * Time is injected: every actor reads time and arms timers through a Clock handed to it by the
 * runtime, so schedules are tested on a {@link VirtualClock} deterministically, without sleeping.
 */

import { createHook } from 'node:async_hooks';

/** Opaque handle of an armed timer. */
export interface TimerHandle {
  readonly id: number;
}

/** Wall-clock time, monotonic time and one-shot timers. */
export interface Clock {
  /** Wall-clock time, epoch milliseconds (can jump: NTP step, suspend, manual change). */
  now(): number;
  /** Monotonic milliseconds from an arbitrary origin; never jumps. Used to detect wall-clock jumps. */
  monotonic(): number;
  /**
   * Calls `cb` once after `ms` milliseconds. Any `ms` is accepted: waits beyond the 2^31-1 ms limit
   * of `setTimeout` are split internally.
   */
  setTimeout(cb: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** setTimeout's largest delay (2^31-1 ms); longer values fire at once in Node, with a warning. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real clock. */
export class SystemClock implements Clock {
  #next = 1;
  #timers = new Map<number, NodeJS.Timeout>();

  now(): number {
    return Date.now();
  }
  monotonic(): number {
    return performance.now();
  }
  setTimeout(cb: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    const due = this.monotonic() + Math.max(0, ms);
    const arm = (): void => {
      const left = due - this.monotonic();
      if (left > MAX_TIMER_MS) {
        this.#timers.set(id, setTimeout(arm, MAX_TIMER_MS));
        return;
      }
      this.#timers.set(id, setTimeout(() => {
        this.#timers.delete(id);
        cb();
      }, Math.max(0, left)));
    };
    arm();
    return { id };
  }
  clearTimeout(handle: TimerHandle): void {
    const t = this.#timers.get(handle.id);
    if (t !== undefined) clearTimeout(t);
    this.#timers.delete(handle.id);
  }
}

interface VirtualTimer {
  id: number;
  dueMono: number;
  seq: number;
  cb: () => void;
  /** A timer of another thread (thread-clock.ts): says, once run there, whether it started work. */
  remote?: () => Promise<boolean>;
}

/**
 * A clock that only moves when told to. Timers fire in due order as time is advanced, and the
 * microtask/immediate queue is drained after each, so promise chains (actors, RxJS) settle.
 *
 * @example
 * const clock = new VirtualClock(Date.parse('2027-01-01T00:00:00Z'));
 * const s = await createScheduler({ dataDir, clock });
 * await clock.advance(60_000); // one virtual minute; every timer due in it has fired
 */
export class VirtualClock implements Clock {
  #wall: number;
  #mono = 0;
  #seq = 0;
  #nextId = 1;
  #timers = new Map<number, VirtualTimer>();
  #settlers = new Set<() => Promise<void>>();
  #busy = new Set<() => boolean>();
  /** Time mirrored for thread actors (see {@link shared}); null until one asks. */
  #shared: Float64Array | null = null;

  constructor(startMs: number = Date.parse('2030-01-01T00:00:00Z')) {
    this.#wall = startMs;
  }

  /**
   * The current wall and monotonic time, `[wall, mono]`, in memory shared with worker threads:
   * a thread actor's clock (src/runtime/thread-clock.ts) reads `now()` and `monotonic()` from it
   * synchronously while this clock drives its timers over a port. Kept up to date from the first
   * call on (a plain store per time step).
   */
  shared(): Float64Array {
    this.#shared ??= new Float64Array(new SharedArrayBuffer(16));
    this.#sync();
    return this.#shared;
  }

  #sync(): void {
    if (this.#shared === null) return;
    this.#shared[0] = this.#wall;
    this.#shared[1] = this.#mono;
  }

  now(): number {
    return this.#wall;
  }
  monotonic(): number {
    return this.#mono;
  }
  setTimeout(cb: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { id, dueMono: this.#mono + Math.max(0, ms), seq: this.#seq++, cb });
    return { id };
  }
  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle.id);
  }

  /**
   * A timer whose callback runs in another thread: `run` fires it there and resolves whether it
   * started asynchronous work (then the clock settles before moving on, as for a local callback
   * that did). @internal for thread-clock.ts
   */
  setRemoteTimeout(run: () => Promise<boolean>, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { id, dueMono: this.#mono + Math.max(0, ms), seq: this.#seq++, cb: () => void run(), remote: run });
    return { id };
  }

  /**
   * Registers a probe awaited after every timer fires (and before `advance` returns), so work that
   * crosses worker threads or LMDB finishes before virtual time moves on. The runtime's System
   * registers its "all mailboxes quiet" probe here. Returns an unregister function.
   *
   * `busy` (optional) says synchronously whether work is under way. Work can begin from outside
   * the clock's view — a child process's exit, a reply over a port — while `advance` awaits; such
   * work was not started by a timer, so nothing would settle it: `advance` checks `busy` before
   * every timer and settles first, so virtual time never runs past the deadline of an ask whose
   * work is in flight (a 30 s commit timeout passed in a millisecond of real time, and the commit,
   * in fact written, was retried only at the next advance).
   */
  addSettler(probe: () => Promise<void>, busy?: () => boolean): () => void {
    this.#settlers.add(probe);
    if (busy !== undefined) this.#busy.add(busy);
    return () => {
      this.#settlers.delete(probe);
      if (busy !== undefined) this.#busy.delete(busy);
    };
  }

  /**
   * Waits for immediates and every registered settler (once: work that begins during its last
   * rounds is caught by `advance`'s check before the next timer — looping here until nothing is
   * busy would never end while a caller keeps asking, as health requests during a burst do).
   */
  async settle(): Promise<void> {
    await settle();
    for (const probe of [...this.#settlers]) await probe();
    await settle();
  }

  #anyBusy(): boolean {
    for (const busy of this.#busy) if (busy()) return true;
    return false;
  }

  /** Number of armed timers. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Due time (virtual monotonic ms from now) of the earliest timer, or null. */
  nextTimerIn(): number | null {
    let best: number | null = null;
    for (const t of this.#timers.values()) if (best === null || t.dueMono < best) best = t.dueMono;
    return best === null ? null : best - this.#mono;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due, in order. After a timer whose
   * callback started asynchronous work (a promise, an immediate, a message...), time stands still
   * until that work and every settler are quiet. A callback that started none — e.g. a capped wait
   * that only re-arms itself — needs no settling: the clock goes straight on to the next timer (a
   * 59-day wait in 30 s steps is 170,000 such wake-ups).
   */
  async advance(ms: number): Promise<void> {
    const target = this.#mono + ms;
    await this.settle();
    for (;;) {
      // Work that began while we awaited (see addSettler): finished before time moves on.
      if (this.#anyBusy()) await this.settle();
      const t = this.#earliest();
      if (t === undefined || t.dueMono > target) break;
      this.#wall += t.dueMono - this.#mono;
      this.#mono = t.dueMono;
      this.#sync();
      this.#timers.delete(t.id);
      if (t.remote !== undefined ? await t.remote() : startsAsyncWork(t.cb)) await this.settle();
    }
    this.#wall += target - this.#mono;
    this.#mono = target;
    this.#sync();
    await this.settle();
  }

  /** Advances to the wall-clock instant `wallMs` (must not be in the past). */
  async advanceTo(wallMs: number): Promise<void> {
    await this.advance(Math.max(0, wallMs - this.#wall));
  }

  /**
   * Steps the wall clock by `deltaMs` without monotonic time passing, as an NTP step or a manual
   * clock change does. Timers (monotonic) are not fired.
   */
  jump(deltaMs: number): void {
    this.#wall += deltaMs;
    this.#sync();
  }

  /**
   * Simulates a suspend/resume: both clocks move by `ms` (wall) but timers that fell due fire
   * only after the "wake", all at once, as a real sleeping machine does.
   */
  async sleep(ms: number): Promise<void> {
    this.#wall += ms;
    this.#mono += ms;
    this.#sync();
    for (;;) {
      const t = this.#earliest();
      if (t === undefined || t.dueMono > this.#mono) break;
      this.#timers.delete(t.id);
      t.cb();
      await this.settle();
    }
    await this.settle();
  }

  #earliest(): VirtualTimer | undefined {
    let best: VirtualTimer | undefined;
    for (const t of this.#timers.values()) {
      if (best === undefined || t.dueMono < best.dueMono || (t.dueMono === best.dueMono && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

/** Async resources created while the hook is enabled (only around one synchronous callback). */
let created = 0;
const watch = createHook({ init: () => void created++ });

/** Runs `cb` and tells whether it created any asynchronous resource (promise, immediate, timer, I/O). @internal */
export function startsAsyncWork(cb: () => void): boolean {
  created = 0;
  watch.enable();
  try {
    cb();
  } finally {
    watch.disable();
  }
  return created > 0;
}

/** Lets pending promise callbacks and immediates run (a few rounds, for chained async work). */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
