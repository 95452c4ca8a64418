/**
 * The timeline of upcoming fires: one entry per job, keyed by its next fire time.
 *
 * An indexed binary min-heap kept in parallel arrays (fire times and insertion sequence numbers in
 * typed arrays, job ids in a plain array, and a Map from job id to heap slot) so a million jobs cost
 * a few tens of bytes each: no per-entry objects, closures or timers.
 */
import { ValidationError } from '../../errors';

/** One upcoming fire. */
export interface TimelineEntry {
  jobId: string;
  /** Fire time, epoch milliseconds (wall clock). */
  at: number;
}

const INITIAL_CAPACITY = 64;

/**
 * Indexed min-heap of `(jobId, at)`, ordered by `at`, then by insertion (the latest `upsert` that
 * changed the entry). O(log n) upsert/remove/pop, O(1) peek/get/size.
 *
 * @example
 * const t = new Timeline();
 * t.upsert('job-a', Date.parse('2030-01-01T09:00:00Z'));
 * t.popDue(Date.now()); // [] until that instant
 */
export class Timeline {
  #at = new Float64Array(INITIAL_CAPACITY);
  // Float64 (not Uint32) so the sequence never wraps in a long-lived daemon (exact up to 2^53).
  #seq = new Float64Array(INITIAL_CAPACITY);
  #ids: string[] = [];
  #slot = new Map<string, number>();
  #size = 0;
  #nextSeq = 0;

  /** Number of entries. */
  get size(): number {
    return this.#size;
  }

  /** Sets (adds or moves) the job's next fire time. */
  upsert(jobId: string, at: number): void {
    this.#check(jobId, at);
    const i = this.#slot.get(jobId);
    if (i !== undefined) {
      // Unchanged time: keep the entry's place among equal times (and stay O(1)).
      if (this.#at[i] === at) return;
      const old = this.#at[i]!;
      this.#at[i] = at;
      this.#seq[i] = this.#nextSeq++;
      if (at < old) this.#siftUp(i);
      else this.#siftDown(i);
      return;
    }
    this.#append(jobId, at);
    this.#siftUp(this.#size - 1);
  }

  /**
   * Sets many entries at once; the same result (and pop order) as calling {@link upsert} for each in
   * turn. When the batch is large beside the heap (start-up arms a page of 2,000 jobs, or a million
   * at once), the new entries are appended and the heap rebuilt bottom-up in O(n) — Floyd's
   * heapify — instead of O(k log n) sift-ups, each of which pays Map updates.
   */
  upsertMany(entries: readonly TimelineEntry[]): void {
    // Checked first: a bad entry refuses the whole batch before anything moved.
    for (const e of entries) this.#check(e.jobId, e.at);
    // k sift-ups cost ~k·log2(n) moves; a rebuild ~2n. Rebuild only when that is cheaper — a
    // clock step moves every entry at once, start-up adds them all. Judged on the batch's size, not
    // on how many entries it changes: that would cost a Map look-up per entry more, and a Map
    // look-up is most of a million-entry rebuild on a busy machine (cache misses).
    const k = entries.length;
    const n = this.#size + k;
    if (k * Math.log2(n + 1) < 2 * n) {
      for (const e of entries) this.upsert(e.jobId, e.at);
      return;
    }
    // Sequence numbers are taken in the batch's order, exactly as by one upsert after another, so
    // the rebuilt heap pops in the same order (it is ordered by (at, seq), a total order). Entries
    // are written in place (or appended) without sifting: the rebuild below orders everything.
    for (const e of entries) {
      const i = this.#slot.get(e.jobId);
      if (i === undefined) this.#append(e.jobId, e.at);
      else if (this.#at[i] !== e.at) {
        this.#at[i] = e.at;
        this.#seq[i] = this.#nextSeq++;
      }
    }
    for (let i = (this.#size >> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }

  /** Adds an entry at the end of the arrays, without restoring the heap order (upsertMany heapifies after). */
  #append(jobId: string, at: number): void {
    if (this.#size === this.#at.length) this.#grow();
    const k = this.#size++;
    this.#at[k] = at;
    this.#seq[k] = this.#nextSeq++;
    this.#ids[k] = jobId;
    this.#slot.set(jobId, k);
  }

  #check(jobId: string, at: number): void {
    if (typeof jobId !== 'string' || jobId.length === 0) {
      throw new ValidationError('timeline jobId must be a non-empty string', 'jobId');
    }
    if (typeof at !== 'number' || !Number.isFinite(at)) {
      throw new ValidationError(`timeline fire time for job ${jobId} must be a finite number of epoch ms, got ${String(at)}`, 'at');
    }
  }

  /** Removes the job's entry; false when it had none. */
  remove(jobId: string): boolean {
    const i = this.#slot.get(jobId);
    if (i === undefined) return false;
    this.#removeAt(i);
    return true;
  }

  /** The job's fire time, or undefined. */
  get(jobId: string): number | undefined {
    const i = this.#slot.get(jobId);
    return i === undefined ? undefined : this.#at[i];
  }

  /** True when the job has an entry. */
  has(jobId: string): boolean {
    return this.#slot.has(jobId);
  }

  /** The earliest entry, or undefined when empty. */
  peek(): TimelineEntry | undefined {
    if (this.#size === 0) return undefined;
    return { jobId: this.#ids[0]!, at: this.#at[0]! };
  }

  /** Time of the earliest entry (no allocation), or undefined when empty. */
  peekAt(): number | undefined {
    return this.#size === 0 ? undefined : this.#at[0];
  }

  /**
   * Removes and returns the entries due at `now` (`at <= now`), earliest first, then by insertion.
   * @param max at most this many (the rest stay for the next call). @default Infinity
   */
  popDue(now: number, max = Infinity): TimelineEntry[] {
    const out: TimelineEntry[] = [];
    while (this.#size > 0 && out.length < max && this.#at[0]! <= now) {
      out.push({ jobId: this.#ids[0]!, at: this.#at[0]! });
      this.#removeAt(0);
    }
    return out;
  }

  /** Removes every entry (and releases the arrays). */
  clear(): void {
    this.#at = new Float64Array(INITIAL_CAPACITY);
    this.#seq = new Float64Array(INITIAL_CAPACITY);
    this.#ids = [];
    this.#slot.clear();
    this.#size = 0;
  }

  /** Every entry, in no particular order (heap order). Do not mutate the timeline while iterating. */
  *entries(): IterableIterator<TimelineEntry> {
    for (let i = 0; i < this.#size; i++) yield { jobId: this.#ids[i]!, at: this.#at[i]! };
  }

  #removeAt(i: number): void {
    const last = --this.#size;
    this.#slot.delete(this.#ids[i]!);
    if (i !== last) {
      const at = this.#at[last]!;
      const seq = this.#seq[last]!;
      const id = this.#ids[last]!;
      this.#at[i] = at;
      this.#seq[i] = seq;
      this.#ids[i] = id;
      this.#slot.set(id, i);
      this.#siftUp(i);
      this.#siftDown(this.#slot.get(id)!);
    }
    this.#ids.length = last;
  }

  /** True when the entry (at, seq) goes before slot j. */
  #before(at: number, seq: number, j: number): boolean {
    const bj = this.#at[j]!;
    return at < bj || (at === bj && seq < this.#seq[j]!);
  }

  // Hole-based sifts: the moving entry is held aside and written once, so each step costs one Map
  // update instead of two (the Map dominates the cost at a million entries).
  #siftUp(i: number): void {
    const at = this.#at[i]!;
    const seq = this.#seq[i]!;
    const id = this.#ids[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#before(at, seq, p)) break;
      this.#move(p, i);
      i = p;
    }
    this.#place(i, at, seq, id);
  }

  #siftDown(i: number): void {
    const at = this.#at[i]!;
    const seq = this.#seq[i]!;
    const id = this.#ids[i]!;
    const n = this.#size;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.#before(this.#at[r]!, this.#seq[r]!, l) ? r : l;
      const ca = this.#at[c]!;
      // The child moves up only if it goes strictly before the held entry.
      if (!(ca < at || (ca === at && this.#seq[c]! < seq))) break;
      this.#move(c, i);
      i = c;
    }
    this.#place(i, at, seq, id);
  }

  #move(from: number, to: number): void {
    this.#at[to] = this.#at[from]!;
    this.#seq[to] = this.#seq[from]!;
    const id = this.#ids[from]!;
    this.#ids[to] = id;
    this.#slot.set(id, to);
  }

  #place(i: number, at: number, seq: number, id: string): void {
    this.#at[i] = at;
    this.#seq[i] = seq;
    this.#ids[i] = id;
    this.#slot.set(id, i);
  }

  #grow(): void {
    const at = new Float64Array(this.#at.length * 2);
    at.set(this.#at);
    const seq = new Float64Array(this.#seq.length * 2);
    seq.set(this.#seq);
    this.#at = at;
    this.#seq = seq;
  }
}
