/**
 * What `--when` conditions read: named signals (`cpu`, `memory`, `disk:/var`, `process:nginx`...),
 * each read at most once per sample however many conditions use it. A {@link SignalSource} is an
 * interface so tests inject the readings they need; `usage.ts` reads the real machine.
 */

/** One signal's reading: named numbers (yes/no fields are 1 or 0), e.g. `{ freeBytes, freePercent }`. */
export type Reading = Readonly<Record<string, number>>;

/** One sample: the reading of each signal asked for, by signal key. A signal that could not be read is absent. */
export type Sample = ReadonlyMap<string, Reading>;

/**
 * Where the trigger hub reads signals from.
 *
 * Signal keys and the fields of their readings:
 * - `cpu` `{ percent }` · `memory` `{ usedPercent, freeBytes, freePercent }` · `swap` `{ usedPercent, usedBytes }`
 * - `load` `{ load1 }` · `disk:PATH` `{ freeBytes, freePercent }`
 * - `process:NAME` / `process:pidfile:PATH` `{ running, cpu, memoryBytes, memoryPercent }`
 * - `battery` `{ battery }` · `power` `{ ac }` · `input` `{ idle }` (1 when no user input since the previous read)
 */
export interface SignalSource {
  /**
   * Null when `signal` can be read on this machine, else why not, as a phrase to follow
   * "not available here: " (e.g. `no battery under /sys/class/power_supply`). Asked when a condition is set.
   */
  unavailable(signal: string): string | null | Promise<string | null>;
  /** Reads each of `signals` once. A signal that cannot be read this time is left out (its checks do not hold). */
  read(signals: readonly string[]): Sample | Promise<Sample>;
}
