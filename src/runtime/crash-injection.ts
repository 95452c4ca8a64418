/**
 * Crash and hang injection: make an actor's handler throw a plain Error — a bug, as far as the
 * runtime can tell — so that an actor spawned with `onUnexpectedError: 'crash'` crashes on it and
 * is restarted (let it crash); or make it hang (return a promise that never settles), so that the
 * actor's hang watchdog (`hangAfterMs`) crashes and restarts it.
 *
 * - For the real binary: `RAE_SCHED_INJECT_CRASH=queue.armMany` makes every `armMany` message of
 *   the `queue` actor throw, in every incarnation: the actor crashes each time it gets one and,
 *   when the message keeps coming, exceeds its restart intensity. That is how the escalation to a
 *   non-zero exit of `rae-sched daemon` is tested (test/faults/escalation.int.test.ts).
 *   `queue.armMany:hang` makes them hang instead. Several entries are separated by commas.
 *   Nothing happens unless the variable is set.
 * - For tests in process: {@link CrashInjector.arm} makes the next `times` messages of one type
 *   throw (or hang).
 */
import type { Handlers } from './types';

/** The environment variable read by {@link CrashInjector}. */
export const INJECT_CRASH_ENV = 'RAE_SCHED_INJECT_CRASH';

/**
 * What an injected fault does to the handler: throw a plain Error, never settle, or run late
 * (`delayMs` of real time first: a slow handler that holds its mailbox).
 */
export type InjectedFailure = 'throw' | 'hang' | { delayMs: number };

/** Makes chosen handlers throw or hang (see the file comment). One per actor system. */
export class CrashInjector {
  readonly #always = new Map<string, 'throw' | 'hang'>();
  readonly #spec: string;
  readonly #once = new Map<string, Array<InjectedFailure>>();

  /** @param spec the value of `RAE_SCHED_INJECT_CRASH` (`actor.message[:hang][,actor.message...]`). */
  constructor(spec: string | undefined = process.env[INJECT_CRASH_ENV]) {
    this.#spec = spec ?? '';
    for (const entry of this.#spec.split(',')) {
      const [target, how] = entry.trim().split(':');
      const [actor, message] = (target ?? '').split('.');
      if (actor !== undefined && actor !== '' && message !== undefined && message !== '') {
        this.#always.set(`${actor}.${message}`, how === 'hang' ? 'hang' : 'throw');
      }
    }
  }

  /** The next `times` messages `type` of `actor` throw (or hang). @internal for tests */
  arm(actor: string, type: string, times = 1, how: InjectedFailure = 'throw'): void {
    const key = `${actor}.${type}`;
    const queue = this.#once.get(key) ?? [];
    for (let i = 0; i < times; i++) queue.push(how);
    this.#once.set(key, queue);
  }

  /**
   * `handlers` with each message handler checked before it runs. The reserved `$` handlers are
   * left as they are. One map look-up per message when armed, one size test when not.
   */
  wrap<H extends Handlers>(actor: string, handlers: H): H {
    const out: Record<string, unknown> = { ...handlers };
    for (const [type, h] of Object.entries(handlers)) {
      if (type.startsWith('$') || typeof h !== 'function') continue;
      const key = `${actor}.${type}`;
      out[type] = (payload: unknown): unknown => {
        const run = (): unknown => (h as (p: unknown) => unknown).call(handlers, payload);
        const how = this.#always.size + this.#once.size > 0 ? this.#fails(key) : null;
        if (how === 'hang') return new Promise<never>(() => undefined);
        if (how !== null) return new Promise((r) => setTimeout(r, how.delayMs)).then(run);
        return run();
      };
    }
    return out as H;
  }

  /** Throws for an injected `throw`; returns an injected hang or delay; null otherwise. */
  #fails(key: string): Exclude<InjectedFailure, 'throw'> | null {
    const always = this.#always.get(key);
    if (always === 'throw') throw new Error(`injected crash (${INJECT_CRASH_ENV}=${this.#spec}): ${key}`);
    if (always === 'hang') return 'hang';
    const queue = this.#once.get(key);
    const how = queue?.shift();
    if (how === undefined) return null;
    if (queue!.length === 0) this.#once.delete(key);
    if (how !== 'throw') return how;
    throw new Error(`injected crash (test): ${key}`);
  }
}
