/**
 * Owed runs waiting for room in the ready queue: retries and runs recovered at start-up that found
 * it full. They exist already (accepted when they fired, durable as `queued`), so a full queue does
 * not drop them as it drops a new fire (`skipped`): they wait here, oldest first, and enter the
 * queue as it drains (runbook.ts `pump`). How many can wait is bounded by the runs that exist —
 * at most what was in flight when the scheduler stopped, plus the retries of runs since — not by
 * `maxQueuedJobs`, which bounds the ready queue itself (docs/jobs.md "Retries after an outage").
 * @internal
 */

/** A FIFO with a count per job (overlap asks how many runs of a job wait). */
export class OwedBacklog<E extends { job: { id: string } }> {
  #items: E[] = [];
  #head = 0;
  readonly #perJob = new Map<string, number>();

  /** Entries waiting. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  push(e: E): void {
    this.#items.push(e);
    this.#perJob.set(e.job.id, (this.#perJob.get(e.job.id) ?? 0) + 1);
  }

  /** The oldest entry, removed; undefined when empty. */
  shift(): E | undefined {
    if (this.size === 0) return undefined;
    const e = this.#items[this.#head]!;
    this.#items[this.#head++] = undefined as unknown as E;
    const n = (this.#perJob.get(e.job.id) ?? 1) - 1;
    if (n <= 0) this.#perJob.delete(e.job.id);
    else this.#perJob.set(e.job.id, n);
    // Compacted once the consumed head dominates: amortised O(1) per entry.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return e;
  }

  /** Entries of this job waiting. */
  countFor(jobId: string): number {
    return this.#perJob.get(jobId) ?? 0;
  }

  /** The entries waiting, oldest first (a copy). */
  values(): E[] {
    return this.#items.slice(this.#head);
  }
}
