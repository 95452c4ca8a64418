/**
 * The timeline changes one turn of the scheduler collects, sent to the queue actor as ONE `armMany`
 * message (src/actors/queue/actor.ts) at the end of the turn.
 */

/** A turn's timeline changes as the queue takes them: keys and fire times as two columns. */
export interface ArmChanges {
  keys: string[];
  at: Float64Array;
  disarm: string[];
}

/**
 * Timeline changes of one turn, sent to the queue as ONE message. Start-up arms a million jobs
 * through {@link armFresh}: appended to plain columns, no Map entry and no object per job.
 */
export class Arming {
  readonly #arm = new Map<string, number>();
  readonly #disarm = new Set<string>();
  #freshKeys: string[] = [];
  #freshAt = new Float64Array(1024);

  arm(key: string, at: number): void {
    this.#disarm.delete(key);
    this.#arm.set(key, at);
  }

  /**
   * {@link arm} for a key armed at most once in this turn (start-up's fast path): appended to columns.
   * Still exact if it is armed or disarmed again: fresh entries are sent first (a later `arm` of the
   * same key wins, as the queue applies entries in order), and a later `disarm` filters it out.
   */
  armFresh(key: string, at: number): void {
    if (this.#disarm.size > 0) this.#disarm.delete(key);
    if (this.#arm.size > 0) this.#arm.delete(key);
    const n = this.#freshKeys.length;
    if (n === this.#freshAt.length) {
      const grown = new Float64Array(n * 2);
      grown.set(this.#freshAt);
      this.#freshAt = grown;
    }
    this.#freshAt[n] = at;
    this.#freshKeys.push(key);
  }

  disarm(key: string): void {
    this.#arm.delete(key);
    this.#disarm.add(key);
  }

  /** Timeline changes collected and not sent yet. */
  get size(): number {
    return this.#freshKeys.length + this.#arm.size + this.#disarm.size;
  }

  /** What to send, emptied. */
  take(): ArmChanges | null {
    if (this.size === 0) return null;
    let keys = this.#freshKeys;
    let at = this.#freshAt.subarray(0, keys.length);
    if (this.#disarm.size > 0 && keys.length > 0) {
      // A fresh entry disarmed later in the turn is dropped (the queue applies disarms first).
      const kept = keys.flatMap((k, i) => (this.#disarm.has(k) ? [] : [i]));
      keys = kept.map((i) => keys[i]!);
      at = Float64Array.from(kept, (i) => at[i]!);
    }
    const out: ArmChanges = { keys: [...keys, ...this.#arm.keys()], at: new Float64Array(keys.length + this.#arm.size), disarm: [...this.#disarm] };
    out.at.set(at);
    let i = keys.length;
    for (const v of this.#arm.values()) out.at[i++] = v;
    this.#freshKeys = [];
    this.#freshAt = new Float64Array(1024);
    this.#arm.clear();
    this.#disarm.clear();
    return out;
  }
}
