/**
 * Coalesces calls made in the same microtask turn into ONE batch call: concurrent callers of a
 * per-item API (`runNow`, `addJob`) share one actor message, one ask timer, one turn of the
 * receiving actor and one store commit, while each caller still gets its own promise and its own
 * error. The batch function answers per item, in order, so one refused item never fails the others.
 * @example
 * const runNow = new Coalescer((refs: string[]) => scheduler.ask('runNowMany', { refs }).then(...));
 * await Promise.all([runNow.call('a'), runNow.call('b')]); // one ask
 * @internal
 */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** See the file comment. */
export class Coalescer<I, O> {
  readonly #run: (items: I[]) => Promise<Array<Settled<O>>>;
  readonly #max: number;
  #items: I[] = [];
  #waiters: Array<{ resolve(v: O): void; reject(e: unknown): void }> = [];

  /**
   * @param run answers every item, in order (a rejection fails every caller of that batch)
   * @param max most items per batch (a larger burst becomes several batches)
   */
  constructor(run: (items: I[]) => Promise<Array<Settled<O>>>, max = 4096) {
    this.#run = run;
    this.#max = max;
  }

  /** Adds one item to the batch of this microtask turn; settles with that item's answer. */
  call(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#items.push(item);
      this.#waiters.push({ resolve, reject });
      if (this.#items.length === 1) queueMicrotask(() => this.#flush());
      else if (this.#items.length >= this.#max) this.#flush();
    });
  }

  #flush(): void {
    if (this.#items.length === 0) return;
    const items = this.#items;
    const waiters = this.#waiters;
    this.#items = [];
    this.#waiters = [];
    this.#run(items).then(
      (answers) => {
        for (let i = 0; i < waiters.length; i++) {
          const a = answers[i];
          if (a === undefined) waiters[i]!.reject(new Error('internal: a batch answered fewer items than it was given'));
          else if (a.ok) waiters[i]!.resolve(a.value);
          else waiters[i]!.reject(a.error);
        }
      },
      (err: unknown) => {
        for (const w of waiters) w.reject(err);
      },
    );
  }
}
