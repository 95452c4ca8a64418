/**
 * Fault injection into actors' handlers: make a handler throw a plain Error — a bug, as far as the
 * runtime can tell — so that an actor spawned with `onUnexpectedError: 'crash'` crashes on it and
 * is restarted (let it crash); make it hang (never settle), so that the actor's hang watchdog
 * (`hangAfterMs`) crashes and restarts it; or make it run late.
 *
 * One design for every placement: the {@link CrashInjector} is the actor system's (main thread),
 * consulted by the actor's mailbox (ActorCell) as it hands each message to the current incarnation.
 * What it decides travels with the message — an argument of `Incarnation.invoke` on the main thread,
 * the `inject` field of the `invoke` message on the thread wire — and {@link runInjected} applies it
 * where the handler runs: on the main thread, or inside the actor's worker (a hang there is a
 * worker really stuck on a message, which the watchdog terminates). Because the plan lives with the
 * mailbox, not with an incarnation, "the next 3 messages throw" spans incarnations and threads.
 *
 * - For the real binary: `RAE_SCHED_INJECT_CRASH=queue.armMany` makes every `armMany` message of
 *   the `queue` actor throw, in every incarnation: the actor crashes each time it gets one and,
 *   when the message keeps coming, exceeds its restart intensity. That is how the escalation to a
 *   non-zero exit of `rae-sched daemon` is tested (test/faults/escalation.int.test.ts).
 *   `queue.armMany:hang` makes them hang instead. Several entries are separated by commas.
 *   Nothing happens unless the variable is set.
 * - For tests in process: {@link CrashInjector.arm} makes the next `times` messages of one type
 *   throw (or hang, or run late).
 */

/** The environment variable read by {@link CrashInjector}. */
export const INJECT_CRASH_ENV = 'RAE_SCHED_INJECT_CRASH';

/**
 * What an injected fault does to the handler: throw a plain Error, never settle, or run late
 * (`delayMs` of real time first: a slow handler that holds its mailbox).
 */
export type InjectedFailure = 'throw' | 'hang' | { delayMs: number };

/** The fault one message carries to its handler (structured-clonable: it crosses the thread wire). */
export type InjectedFault =
  | { kind: 'throw'; message: string }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number };

/**
 * Runs `handler` with `fault` applied: throws the injected Error (as the handler would), returns
 * a promise that never settles, or runs it after the delay. Without a fault, just runs it.
 */
export function runInjected(fault: InjectedFault | undefined, handler: () => unknown): unknown {
  if (fault === undefined) return handler();
  if (fault.kind === 'throw') throw new Error(fault.message);
  if (fault.kind === 'hang') return new Promise<never>(() => undefined);
  return new Promise((r) => setTimeout(r, fault.ms)).then(handler);
}

/** Decides which messages get a fault (see the file comment). One per actor system. */
export class CrashInjector {
  readonly #always = new Map<string, 'throw' | 'hang'>();
  readonly #spec: string;
  readonly #once = new Map<string, Array<InjectedFailure>>();
  /**
   * True while any fault is armed. The mailbox reads it before {@link take}: with nothing armed
   * (production, benches) the check per message is one property read.
   */
  get armed(): boolean {
    return this.#armed;
  }

  #armed = false;

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
    this.#armed = this.#always.size > 0;
  }

  /** The next `times` messages `type` of `actor` throw (or hang, or run late). @internal for tests */
  arm(actor: string, type: string, times = 1, how: InjectedFailure = 'throw'): void {
    const key = `${actor}.${type}`;
    const queue = this.#once.get(key) ?? [];
    for (let i = 0; i < times; i++) queue.push(how);
    this.#once.set(key, queue);
    this.#armed = true;
  }

  /**
   * The fault for this message of `actor`, consumed; undefined for none. The reserved `$`
   * handlers are left alone.
   */
  take(actor: string, type: string): InjectedFault | undefined {
    if (!this.#armed || type.startsWith('$')) return undefined;
    const key = `${actor}.${type}`;
    const always = this.#always.get(key);
    if (always === 'throw') return { kind: 'throw', message: `injected crash (${INJECT_CRASH_ENV}=${this.#spec}): ${key}` };
    if (always === 'hang') return { kind: 'hang' };
    const queue = this.#once.get(key);
    const how = queue?.shift();
    if (how === undefined) return undefined;
    if (queue!.length === 0) {
      this.#once.delete(key);
      this.#armed = this.#always.size + this.#once.size > 0;
    }
    if (how === 'throw') return { kind: 'throw', message: `injected crash (test): ${key}` };
    if (how === 'hang') return { kind: 'hang' };
    return { kind: 'delay', ms: how.delayMs };
  }
}
