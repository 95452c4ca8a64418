/**
 * The timeline of upcoming fires: one entry per job, keyed by its next fire time.
 *
 * An indexed binary min-heap kept in parallel typed arrays, so a million jobs cost a few tens of bytes
 * each: no per-entry objects, closures or timers. Each key gets an entry number (a row) once, in the
 * one Map of the timeline; the heap holds entry numbers, and an entry's heap position is a typed
 * column. A sift therefore moves numbers in typed arrays and never touches the Map: at a million
 * entries a Map operation costs 1–4 µs on a loaded machine (cache misses), a typed-array write a few ns.
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
 * changed the entry). O(log n) upsert/remove/pop, O(1) peek/get/size; one Map operation per
 * keyed call (and one more for a key new to the timeline).
 *
 * @example
 * const t = new Timeline();
 * t.upsert('job-a', Date.parse('2030-01-01T09:00:00Z'));
 * t.popDue(Date.now()); // [] until that instant
 */
export class Timeline {
  // Heap order (position p): fire time, insertion sequence and entry number of the p-th heap slot.
  // Fire time and sequence sit beside the entry so the comparisons of a sift read one array each.
  #at = new Float64Array(INITIAL_CAPACITY);
  // Float64 (not Uint32) so the sequence never wraps in a long-lived daemon (exact up to 2^53).
  #seq = new Float64Array(INITIAL_CAPACITY);
  #heap = new Int32Array(INITIAL_CAPACITY);
  // By entry number e: its key and its heap position.
  #key: Array<string | undefined> = [];
  #pos = new Int32Array(INITIAL_CAPACITY);
  #entry = new Map<string, number>();
  /** Entry numbers of removed keys, reused before new ones are taken. */
  #free: number[] = [];
  #size = 0;
  #nextSeq = 0;

  /** Number of entries. */
  get size(): number {
    return this.#size;
  }

  /** Sets (adds or moves) the job's next fire time. */
  upsert(jobId: string, at: number): void {
    this.#check(jobId, at);
    const p = this.#set(jobId, at);
    if (p < 0) return;
    const e = this.#heap[p]!;
    this.#siftUp(p);
    this.#siftDown(this.#pos[e]!);
  }

  /**
   * Writes the key's time in place (or appends it) without restoring the heap order. Returns the
   * heap position written, or -1 when the time is unchanged: the entry keeps its place among equal
   * times.
   */
  #set(jobId: string, at: number): number {
    const e = this.#entry.get(jobId);
    if (e === undefined) return this.#append(jobId, at);
    const p = this.#pos[e]!;
    if (this.#at[p] === at) return -1;
    this.#at[p] = at;
    this.#seq[p] = this.#nextSeq++;
    return p;
  }

  /**
   * Sets many entries at once; the same result (and pop order) as calling {@link upsert} for each in
   * turn. When the batch is large beside the heap (start-up arms every job, a clock step moves them
   * all), the entries are written in place or appended and the heap rebuilt bottom-up in O(n) —
   * Floyd's heapify — instead of O(k log n) sift-ups.
   */
  upsertMany(entries: readonly TimelineEntry[]): void {
    const keys = new Array<string>(entries.length);
    const at = new Float64Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      keys[i] = entries[i]!.jobId;
      at[i] = entries[i]!.at;
    }
    this.upsertColumns(keys, at);
  }

  /** {@link upsertMany} given as two columns (keys and fire times, same length): no object per entry. */
  upsertColumns(keys: readonly string[], at: Float64Array): void {
    const k = keys.length;
    if (at.length !== k) throw new ValidationError(`timeline batch has ${k} keys but ${at.length} fire times`, 'at');
    // Checked first: a bad entry refuses the whole batch before anything moved.
    for (let i = 0; i < k; i++) this.#check(keys[i]!, at[i]!);
    // k sift-ups cost ~k·log2(n) moves; a rebuild ~2n. Rebuild only when that is cheaper.
    const n = this.#size + k;
    if (k * Math.log2(n + 1) < 2 * n) {
      for (let i = 0; i < k; i++) this.upsert(keys[i]!, at[i]!);
      return;
    }
    // Sequence numbers are taken in the batch's order, exactly as by one upsert after another, so
    // the rebuilt heap pops in the same order (it is ordered by (at, seq), a total order).
    for (let i = 0; i < k; i++) this.#set(keys[i]!, at[i]!);
    for (let p = (this.#size >> 1) - 1; p >= 0; p--) this.#siftDown(p);
  }

  /** Adds an entry at the end of the heap, without restoring the heap order (callers sift); returns its position. */
  #append(jobId: string, at: number): number {
    if (this.#size === this.#at.length) this.#growHeap();
    const e = this.#free.length > 0 ? this.#free.pop()! : this.#key.length;
    if (e >= this.#pos.length) this.#growEntries();
    this.#key[e] = jobId;
    this.#entry.set(jobId, e);
    const p = this.#size++;
    this.#at[p] = at;
    this.#seq[p] = this.#nextSeq++;
    this.#heap[p] = e;
    this.#pos[e] = p;
    return p;
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
    const e = this.#entry.get(jobId);
    if (e === undefined) return false;
    this.#removeAt(this.#pos[e]!);
    return true;
  }

  /** The job's fire time, or undefined. */
  get(jobId: string): number | undefined {
    const e = this.#entry.get(jobId);
    return e === undefined ? undefined : this.#at[this.#pos[e]!];
  }

  /** True when the job has an entry. */
  has(jobId: string): boolean {
    return this.#entry.has(jobId);
  }

  /** The earliest entry, or undefined when empty. */
  peek(): TimelineEntry | undefined {
    if (this.#size === 0) return undefined;
    return { jobId: this.#key[this.#heap[0]!]!, at: this.#at[0]! };
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
      out.push({ jobId: this.#key[this.#heap[0]!]!, at: this.#at[0]! });
      this.#removeAt(0);
    }
    return out;
  }

  /** Removes every entry (and releases the arrays). */
  clear(): void {
    this.#at = new Float64Array(INITIAL_CAPACITY);
    this.#seq = new Float64Array(INITIAL_CAPACITY);
    this.#heap = new Int32Array(INITIAL_CAPACITY);
    this.#pos = new Int32Array(INITIAL_CAPACITY);
    this.#key = [];
    this.#free = [];
    this.#entry.clear();
    this.#size = 0;
  }

  /** Every entry, in no particular order (heap order). Do not mutate the timeline while iterating. */
  *entries(): IterableIterator<TimelineEntry> {
    for (let p = 0; p < this.#size; p++) yield { jobId: this.#key[this.#heap[p]!]!, at: this.#at[p]! };
  }

  #removeAt(p: number): void {
    const e = this.#heap[p]!;
    this.#entry.delete(this.#key[e]!);
    this.#key[e] = undefined;
    this.#free.push(e);
    const last = --this.#size;
    if (p === last) return;
    // The last heap slot fills the hole, then goes up or down to its place.
    const moved = this.#heap[last]!;
    this.#at[p] = this.#at[last]!;
    this.#seq[p] = this.#seq[last]!;
    this.#heap[p] = moved;
    this.#pos[moved] = p;
    this.#siftUp(p);
    this.#siftDown(this.#pos[moved]!);
  }

  /** True when the entry (at, seq) goes before heap slot j. */
  #before(at: number, seq: number, j: number): boolean {
    const bj = this.#at[j]!;
    return at < bj || (at === bj && seq < this.#seq[j]!);
  }

  // Hole-based sifts: the moving entry is held aside and written once.
  #siftUp(p: number): void {
    const at = this.#at[p]!;
    const seq = this.#seq[p]!;
    const e = this.#heap[p]!;
    while (p > 0) {
      const parent = (p - 1) >> 1;
      if (!this.#before(at, seq, parent)) break;
      this.#move(parent, p);
      p = parent;
    }
    this.#place(p, at, seq, e);
  }

  #siftDown(p: number): void {
    const at = this.#at[p]!;
    const seq = this.#seq[p]!;
    const e = this.#heap[p]!;
    const n = this.#size;
    for (;;) {
      const l = 2 * p + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.#before(this.#at[r]!, this.#seq[r]!, l) ? r : l;
      const ca = this.#at[c]!;
      // The child moves up only if it goes strictly before the held entry.
      if (!(ca < at || (ca === at && this.#seq[c]! < seq))) break;
      this.#move(c, p);
      p = c;
    }
    this.#place(p, at, seq, e);
  }

  #move(from: number, to: number): void {
    this.#at[to] = this.#at[from]!;
    this.#seq[to] = this.#seq[from]!;
    const e = this.#heap[from]!;
    this.#heap[to] = e;
    this.#pos[e] = to;
  }

  #place(p: number, at: number, seq: number, e: number): void {
    this.#at[p] = at;
    this.#seq[p] = seq;
    this.#heap[p] = e;
    this.#pos[e] = p;
  }

  #growHeap(): void {
    const size = this.#at.length * 2;
    this.#at = grown(this.#at, new Float64Array(size));
    this.#seq = grown(this.#seq, new Float64Array(size));
    this.#heap = grown(this.#heap, new Int32Array(size));
  }

  #growEntries(): void {
    this.#pos = grown(this.#pos, new Int32Array(this.#pos.length * 2));
  }
}

function grown<T extends Float64Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
