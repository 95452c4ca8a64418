/**
 * The ready queue: runs waiting for executor capacity. The executor pulls (that is the
 * backpressure); the queue is bounded and refuses with QueueFullError past `maxSize`.
 */
import { ConflictError, QueueFullError, ValidationError } from '../../errors';

/** A run waiting for capacity. */
export interface ReadyItem {
  runId: string;
  jobId: string;
  /** Higher runs first. */
  priority: number;
  /** When it became due (epoch ms); earlier first among equal priorities. */
  dueAt: number;
}

interface Node {
  item: ReadyItem;
  seq: number;
}

/** Ordering of the ready queue: priority (higher first), then dueAt, then FIFO. */
export function readyBefore(a: ReadyItem, aSeq: number, b: ReadyItem, bSeq: number): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.dueAt !== b.dueAt) return a.dueAt < b.dueAt;
  return aSeq < bSeq;
}

/**
 * Bounded priority queue of ready runs. (No slot dedupe here: a slot's run enters the queue only
 * once its slot record is durable, and the store's `(job, slot)` key already refused a second one.)
 *
 * @example
 * const q = new ReadyQueue({ maxSize: 10_000 });
 * q.push({ runId, jobId, priority: 0, dueAt: now });
 * const next = q.pop();
 */
export class ReadyQueue {
  readonly #maxSize: number;
  #heap: Node[] = [];
  /**
   * Ids queued (a second push of one is refused). Positions are not tracked: keeping a map of them
   * current cost two map writes per swap, ~20 per pop at a thousand runs waiting, on the hot path;
   * removing one run by id (rare: a cancel) searches the heap instead.
   */
  #ids = new Set<string>();
  #perJob = new Map<string, number>();
  #seq = 0;

  constructor(opts: { maxSize: number }) {
    const m = opts?.maxSize;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 1) {
      throw new ValidationError(`maxQueuedJobs must be an integer >= 1, got ${String(m)}`, 'maxQueuedJobs');
    }
    this.#maxSize = m;
  }

  /** Runs waiting. */
  get size(): number {
    return this.#heap.length;
  }

  /** The bound. */
  get maxSize(): number {
    return this.#maxSize;
  }

  /**
   * Adds a run.
   * @throws QueueFullError when `maxSize` runs are waiting
   * @throws ConflictError when a run with this runId is already queued
   */
  push(item: ReadyItem): void {
    validate(item);
    if (this.#ids.has(item.runId)) throw new ConflictError(`run ${item.runId} is already in the ready queue`);
    if (this.#heap.length >= this.#maxSize) {
      throw new QueueFullError(`ready queue is full (${this.#maxSize} runs waiting, maxQueuedJobs); run of job ${item.jobId} refused`);
    }
    const node: Node = { item: { ...item }, seq: this.#seq++ };
    this.#heap.push(node);
    this.#ids.add(item.runId);
    this.#perJob.set(item.jobId, (this.#perJob.get(item.jobId) ?? 0) + 1);
    this.#up(this.#heap.length - 1);
  }

  /** Takes the next run, or undefined when empty. */
  pop(): ReadyItem | undefined {
    return this.#heap.length === 0 ? undefined : this.#removeAt(0);
  }

  /** The next run without taking it. */
  peek(): ReadyItem | undefined {
    const n = this.#heap[0];
    return n === undefined ? undefined : { ...n.item };
  }

  /** Removes one run by id (e.g. cancelled); undefined when it is not queued. */
  remove(runId: string): ReadyItem | undefined {
    if (!this.#ids.has(runId)) return undefined;
    return this.#removeAt(this.#heap.findIndex((n) => n.item.runId === runId));
  }

  /** Removes every queued run of a job (job removed or paused), in queue order. */
  removeJob(jobId: string): ReadyItem[] {
    if (!this.#perJob.has(jobId)) return [];
    const mine = this.#heap.filter((n) => n.item.jobId === jobId).sort((a, b) => order(a, b));
    return mine.map((n) => this.remove(n.item.runId)!);
  }

  /** Queued runs of a job. O(1). */
  countForJob(jobId: string): number {
    return this.#perJob.get(jobId) ?? 0;
  }

  /** Snapshot of the queued runs, in the order they would be popped. */
  items(): ReadyItem[] {
    return [...this.#heap].sort(order).map((n) => ({ ...n.item }));
  }

  #removeAt(i: number): ReadyItem {
    const node = this.#heap[i]!;
    const last = this.#heap.pop()!;
    if (i < this.#heap.length) {
      this.#heap[i] = last;
      // Sifts one way at most: up if it beats its new parent, else down.
      if (this.#up(i) === i) this.#down(i);
    }
    const { item } = node;
    this.#ids.delete(item.runId);
    const c = (this.#perJob.get(item.jobId) ?? 1) - 1;
    if (c === 0) this.#perJob.delete(item.jobId);
    else this.#perJob.set(item.jobId, c);
    return item;
  }

  /** Sifts the node at `i` up; returns where it ended. */
  #up(i: number): number {
    const h = this.#heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (order(h[i]!, h[p]!) >= 0) break;
      this.#swap(i, p);
      i = p;
    }
    return i;
  }

  #down(i: number): void {
    const h = this.#heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && order(h[l]!, h[m]!) < 0) m = l;
      if (r < h.length && order(h[r]!, h[m]!) < 0) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }

  #swap(i: number, j: number): void {
    const h = this.#heap;
    const t = h[i]!;
    h[i] = h[j]!;
    h[j] = t;
  }
}

function order(a: Node, b: Node): number {
  if (a === b) return 0;
  return readyBefore(a.item, a.seq, b.item, b.seq) ? -1 : 1;
}

function validate(item: ReadyItem): void {
  const str = (f: 'runId' | 'jobId'): void => {
    if (typeof item[f] !== 'string' || item[f].length === 0) throw new ValidationError(`ready item ${f} must be a non-empty string`, f);
  };
  str('runId');
  str('jobId');
  if (typeof item.priority !== 'number' || !Number.isFinite(item.priority)) {
    throw new ValidationError(`ready item priority must be a finite number, got ${String(item.priority)}`, 'priority');
  }
  if (typeof item.dueAt !== 'number' || !Number.isFinite(item.dueAt)) {
    throw new ValidationError(`ready item dueAt must be finite epoch ms, got ${String(item.dueAt)}`, 'dueAt');
  }
}
