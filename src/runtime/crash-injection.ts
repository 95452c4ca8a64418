/**
 * Crash injection: make an actor's handler throw a plain Error — a bug, as far as the runtime can
 * tell — so that an actor spawned with `onUnexpectedError: 'crash'` crashes on it and is
 * restarted (let it crash).
 *
 * - For the real binary: `RAE_SCHED_INJECT_CRASH=queue.armMany` makes every `armMany` message of
 *   the `queue` actor throw, in every incarnation: the actor crashes each time it gets one and,
 *   when the message keeps coming, exceeds its restart intensity. That is how the escalation to a
 *   non-zero exit of `rae-sched daemon` is tested (test/faults/escalation.int.test.ts). Several
 *   entries are separated by commas. Nothing happens unless the variable is set.
 * - For tests in process: {@link CrashInjector.arm} makes the next `times` messages of one type throw.
 */
import type { Handlers } from './types';

/** The environment variable read by {@link CrashInjector}. */
export const INJECT_CRASH_ENV = 'RAE_SCHED_INJECT_CRASH';

/** Makes chosen handlers throw (see the file comment). One per actor system. */
export class CrashInjector {
  readonly #always = new Set<string>();
  readonly #spec: string;
  readonly #once = new Map<string, number>();

  /** @param spec the value of `RAE_SCHED_INJECT_CRASH` (`actor.message[,actor.message...]`). */
  constructor(spec: string | undefined = process.env[INJECT_CRASH_ENV]) {
    this.#spec = spec ?? '';
    for (const entry of this.#spec.split(',')) {
      const [actor, message] = entry.trim().split('.');
      if (actor !== undefined && actor !== '' && message !== undefined && message !== '') this.#always.add(`${actor}.${message}`);
    }
  }

  /** The next `times` messages `type` of `actor` throw. @internal for tests */
  arm(actor: string, type: string, times = 1): void {
    const key = `${actor}.${type}`;
    this.#once.set(key, (this.#once.get(key) ?? 0) + times);
  }

  /**
   * `handlers` with each message handler checked before it runs. The reserved `$` handlers are
   * left as they are. One map look-up per message when armed, one boolean test when not.
   */
  wrap<H extends Handlers>(actor: string, handlers: H): H {
    const out: Record<string, unknown> = { ...handlers };
    for (const [type, h] of Object.entries(handlers)) {
      if (type.startsWith('$') || typeof h !== 'function') continue;
      const key = `${actor}.${type}`;
      out[type] = (payload: unknown): unknown => {
        if (this.#always.size + this.#once.size > 0) this.#check(key);
        return (h as (p: unknown) => unknown).call(handlers, payload);
      };
    }
    return out as H;
  }

  #check(key: string): void {
    if (this.#always.has(key)) throw new Error(`injected crash (${INJECT_CRASH_ENV}=${this.#spec}): ${key}`);
    const n = this.#once.get(key);
    if (n === undefined) return;
    if (n <= 1) this.#once.delete(key);
    else this.#once.set(key, n - 1);
    throw new Error(`injected crash (test): ${key}`);
  }
}
