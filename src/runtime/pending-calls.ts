/**
 * Calls in flight to one incarnation, failed all at once when it ends.
 *
 * Not `Promise.race(call, gone)`: each race adds a reaction to the long-lived "gone" promise that
 * keeps the race's result alive until the incarnation ends — every reply leaked (measured ~800 B per
 * job loaded at start-up; test/runtime/reply-retention.int.test.ts). Instead each call registers
 * its own reject, removed as soon as it settles.
 * @internal
 */
export class PendingCalls {
  readonly #rejects = new Set<(err: unknown) => void>();
  #ended: { err: unknown } | null = null;

  /** `call`'s outcome, or the end error if the incarnation ends first (or has ended). */
  track<T>(call: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#ended !== null) {
        reject(this.#ended.err);
        return;
      }
      this.#rejects.add(reject);
      call.then(
        (v) => { this.#rejects.delete(reject); resolve(v); },
        (e: unknown) => { this.#rejects.delete(reject); reject(e); },
      );
    });
  }

  /** Fails every call in flight with `err`, and every later one (the first end error wins). */
  end(err: unknown): void {
    this.#ended ??= { err };
    for (const reject of this.#rejects) reject(err);
    this.#rejects.clear();
  }
}
