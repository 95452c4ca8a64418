/**
 * The dead-man's switch: a job whose expected fire passed more than a tolerance ago with no
 * recorded outcome. Kept cheap with any number of jobs: only the timeline's earliest entry (an
 * entry still waiting long after its time means the timer is not firing) and the batches the
 * timer handed to the scheduler that it has not handled yet (fires stuck behind a busy or hung
 * scheduler) are looked at — O(1) and O(batches in flight), never a scan of the jobs.
 */

/** A due entry as the timer hands it over. */
export interface DueEntry {
  jobId: string;
  at: number;
}

/** An overdue fire: which job (timeline key) and since when. */
export interface Overdue {
  key: string;
  at: number;
  /** Entries overdue with it in the same stuck batch (0 for a timeline entry). */
  others: number;
}

/** Tracks the timer's hand-overs until the scheduler has handled them. */
export class DeadMan {
  readonly #inFlight = new Set<DueEntry[]>();

  /** The timer handed `due` (earliest first) to the scheduler. */
  handedOver(due: DueEntry[]): void {
    if (due.length > 0) this.#inFlight.add(due);
  }

  /** The scheduler handled that batch (every slot in it has its outcome recorded or staged). */
  handled(due: DueEntry[]): void {
    this.#inFlight.delete(due);
  }

  /** A new scheduler incarnation re-arms from the store: batches of the old one are void. */
  reset(): void {
    this.#inFlight.clear();
  }

  /** The oldest fire overdue by more than `toleranceMs` at `now`, or null. */
  overdue(now: number, toleranceMs: number, earliest: { key: string; at: number } | null): Overdue | null {
    let worst: Overdue | null = null;
    for (const batch of this.#inFlight) {
      const first = batch[0]!;
      if (now - first.at > toleranceMs && (worst === null || first.at < worst.at)) {
        worst = { key: first.jobId, at: first.at, others: batch.length - 1 };
      }
    }
    if (earliest !== null && now - earliest.at > toleranceMs && (worst === null || earliest.at < worst.at)) {
      worst = { key: earliest.key, at: earliest.at, others: 0 };
    }
    return worst;
  }
}
