/**
 * What the scheduler keeps in memory about EVERY job: its id, name and a few flags, one row per job
 * in plain columns. Full job specs stay in LMDB and are read (through a bounded cache) when a job
 * fires or is shown, so memory per job is this index plus its timeline entry (docs/benchmarks.md
 * has the measured totals).
 *
 * Start-up reads the jobs in id order, and new ids sort after every older one (src/model/ids.ts),
 * so ids are kept in a sorted column found by binary search: loading a million jobs costs no Map
 * entry per id (a Map operation on a million-entry Map costs 1–4 µs on a loaded machine). An id
 * that arrives out of order (a restored or imported job) goes to a small Map beside it.
 */
import type { Job } from '../../model/job';
import type { Schedule } from '../parser/schedule';
import type { JobHead } from '../persistence/tables';
import { NameTable } from './name-table';

const ENABLED = 1;
const DONE = 2;
/** A removed job's row (its id stays in the sorted column; adding it again reuses the row). */
const GONE = 128;
const KIND_SHIFT = 2;
/** `timed`: a time-based schedule whose exact form start-up did not need to load. */
const KINDS = ['none', 'cron', 'interval', 'once', 'reboot', 'never', 'timed'] as const;

/** Schedule kind as the index knows it (`none`: the stored schedule no longer parses). */
export type IndexedKind = (typeof KINDS)[number];

/** The kind of a parsed schedule. */
export function kindOf(schedule: Schedule | null): IndexedKind {
  if (schedule === null) return 'none';
  return schedule.kind === 'event' ? schedule.event : schedule.kind;
}

/**
 * What the index needs of a job: the id, name, flags and `--after` edges of its stored head. A
 * subset of {@link JobHead}, named from it so the two cannot drift (start-up indexes heads as read).
 */
export type IndexFacts = Pick<JobHead, 'id' | 'name' | 'enabled' | 'done' | 'after'>;

/** The index facts of a whole job. */
export function factsOf(job: Pick<Job, 'id' | 'name' | 'enabled' | 'completedAt' | 'triggers'>): IndexFacts {
  return {
    id: job.id, name: job.name, enabled: job.enabled, done: job.completedAt !== null,
    after: job.triggers.flatMap((t) => (t.type === 'after' ? [t.job] : [])),
  };
}

/** One job's flags. */
export interface IndexEntry {
  enabled: boolean;
  done: boolean;
  kind: IndexedKind;
}

/** Ids, names, flags and dependency edges of every job. */
export class JobIndex {
  /** Ids of rows 0..n-1, ascending. */
  #sorted: string[] = [];
  /** Ids that came out of order → row. */
  #late = new Map<string, number>();
  /** Row → id, flags (ENABLED | DONE | kind, GONE when removed) and name. */
  #ids: string[] = [];
  #flags = new Uint8Array(1024);
  #nameOf: string[] = [];
  readonly #names = new NameTable((r) => this.#nameOf[r]!);
  #count = 0;
  /** Upstream job name or id → ids of jobs with an `--after` trigger on it (usually empty). */
  readonly #dependents = new Map<string, Set<string>>();
  /** Row of the last id set or looked up (start-up sets a job, then its columns, row after row). */
  #hint = -1;
  /** Columns keyed by this index's rows: emptied when the index is (rows restart from 0). */
  readonly #columns: Array<RowColumn<unknown>> = [];

  get size(): number {
    return this.#count;
  }

  #rowOf(id: string): number {
    if (this.#hint >= 0 && this.#ids[this.#hint] === id) return this.#hint;
    if (this.#late.size > 0) {
      const r = this.#late.get(id);
      if (r !== undefined) return r;
    }
    const a = this.#sorted;
    let lo = 0;
    let hi = a.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = a[mid]!;
      if (v === id) return (this.#hint = mid);
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The live row of a job, or -1. */
  #live(id: string): number {
    const r = this.#rowOf(id);
    return r >= 0 && (this.#flags[r]! & GONE) === 0 ? r : -1;
  }

  /** Adds or updates a job. */
  set(job: IndexFacts, kind: IndexedKind): void {
    this.setHead(job.id, job.name, job.enabled, job.done, job.after, kind);
  }

  /** {@link set} from a stored head's fields (start-up: no object per job). */
  setHead(id: string, name: string, enabled: boolean, done: boolean, after: readonly string[], kind: IndexedKind): void {
    // An id after the last sorted one (start-up, a new job) is known to be new without a search.
    const n = this.#sorted.length;
    const fresh = this.#late.size === 0 && (n === 0 || this.#sorted[n - 1]! < id);
    let r = fresh ? -1 : this.#rowOf(id);
    const known = r >= 0 && (this.#flags[r]! & GONE) === 0;
    if (r < 0) {
      r = this.#ids.length;
      const last = this.#sorted.length === r ? this.#sorted[r - 1] : undefined;
      // In order (start-up, new ids): the sorted column; otherwise the Map of late ones.
      if (this.#sorted.length === r && (last === undefined || last < id)) this.#sorted.push(id);
      else this.#late.set(id, r);
      this.#ids.push(id);
      this.#nameOf.push(name);
      this.#hint = r;
      if (r === this.#flags.length) {
        const grown = new Uint8Array(r * 2);
        grown.set(this.#flags);
        this.#flags = grown;
      }
    } else if (this.#nameOf[r] !== name) {
      if (this.#names.get(this.#nameOf[r]!) === r) this.#names.delete(this.#nameOf[r]!);
      this.#nameOf[r] = name;
    }
    // (Checked only when there are edges: start-up sets a million jobs, nearly all without.)
    if (after.length > 0 && !known) {
      for (const upstream of after) {
        const set = this.#dependents.get(upstream) ?? new Set<string>();
        set.add(id);
        this.#dependents.set(upstream, set);
      }
    }
    if (!known) this.#count++;
    this.#flags[r] = (enabled ? ENABLED : 0) | (done ? DONE : 0) | (KINDS.indexOf(kind) << KIND_SHIFT);
    this.#names.set(name, r);
  }

  delete(job: Pick<Job, 'id' | 'name'>): void {
    const r = this.#live(job.id);
    if (r >= 0) {
      this.#flags[r] = GONE;
      this.#count--;
      if (this.#names.get(this.#nameOf[r]!) === r) this.#names.delete(this.#nameOf[r]!);
    }
    for (const [upstream, set] of this.#dependents) {
      set.delete(job.id);
      if (set.size === 0) this.#dependents.delete(upstream);
    }
  }

  clear(): void {
    this.#sorted = [];
    this.#late = new Map();
    this.#ids = [];
    this.#flags = new Uint8Array(1024);
    this.#nameOf = [];
    this.#names.clear();
    this.#count = 0;
    this.#hint = -1;
    this.#dependents.clear();
    for (const c of this.#columns) c.clear();
  }

  /**
   * A Map-like column of values by job id, kept in this index's rows (no Map entry per job): the
   * SlotKeeper's schedule states. Ids without a row (not indexed yet) go to a small Map beside it.
   */
  column<V>(): KeyedColumn<V> {
    const c = new RowColumn<V>((id) => this.#rowOf(id), (r) => this.#ids[r]!);
    this.#columns.push(c as RowColumn<unknown>);
    return c;
  }

  /** The id of a job given by id or name. */
  idOf(ref: string): string | undefined {
    if (this.#live(ref) >= 0) return ref;
    const r = this.#names.get(ref);
    return r === undefined ? undefined : this.#ids[r];
  }

  hasName(name: string): boolean {
    return this.#names.has(name);
  }

  get(id: string): IndexEntry | undefined {
    const r = this.#live(id);
    if (r < 0) return undefined;
    const f = this.#flags[r]!;
    return { enabled: (f & ENABLED) !== 0, done: (f & DONE) !== 0, kind: KINDS[f >> KIND_SHIFT] ?? 'none' };
  }

  /** Ids of jobs that may fire: enabled, not done, with a schedule that parses. */
  *active(): IterableIterator<string> {
    const n = this.#ids.length;
    for (let r = 0; r < n; r++) {
      const f = this.#flags[r]!;
      if ((f & (ENABLED | DONE | GONE)) === ENABLED && f >> KIND_SHIFT !== 0) yield this.#ids[r]!;
    }
  }

  /** Ids of jobs whose `--after` trigger names `job` (by name or id). */
  dependentsOf(job: Pick<Job, 'id' | 'name'>): string[] {
    return [...(this.#dependents.get(job.name) ?? []), ...(this.#dependents.get(job.id) ?? [])];
  }

  /**
   * `--after` edges whose upstream (name or id, as written) is no job any more, with the dependent's
   * name; done (one-time, fired) dependents are left out. Usually empty: costs one look-up per
   * distinct upstream.
   */
  danglingAfter(): Array<{ name: string; upstream: string }> {
    const found: Array<{ name: string; upstream: string }> = [];
    for (const [upstream, ids] of this.#dependents) {
      if (this.idOf(upstream) !== undefined) continue;
      for (const id of ids) {
        const r = this.#live(id);
        if (r >= 0 && (this.#flags[r]! & DONE) === 0) found.push({ name: this.#nameOf[r]!, upstream });
      }
    }
    return found;
  }

  counts(): { total: number; enabled: number; paused: number; done: number } {
    let enabled = 0;
    let paused = 0;
    let done = 0;
    const n = this.#ids.length;
    for (let r = 0; r < n; r++) {
      const f = this.#flags[r]!;
      if ((f & GONE) !== 0) continue;
      if ((f & DONE) !== 0) done++;
      else if ((f & ENABLED) !== 0) enabled++;
      else paused++;
    }
    return { total: this.#count, enabled, paused, done };
  }
}

/** The part of a `Map<string, V>` a {@link JobIndex.column} offers. */
export interface KeyedColumn<V> {
  get(id: string): V | undefined;
  set(id: string, value: V): unknown;
  has(id: string): boolean;
  delete(id: string): boolean;
  /** Entries in row order (id order for the jobs loaded at start-up), then those without a row. */
  [Symbol.iterator](): IterableIterator<[string, V]>;
}

/** {@link JobIndex.column}'s implementation. */
class RowColumn<V> implements KeyedColumn<V> {
  #values: Array<V | undefined> = [];
  readonly #other = new Map<string, V>();

  constructor(readonly rowOf: (id: string) => number, readonly idAt: (row: number) => string) {}

  get(id: string): V | undefined {
    const r = this.rowOf(id);
    const v = r >= 0 ? this.#values[r] : undefined;
    return v !== undefined || this.#other.size === 0 ? v : this.#other.get(id);
  }

  set(id: string, value: V): void {
    const r = this.rowOf(id);
    if (r < 0) {
      this.#other.set(id, value);
      return;
    }
    if (this.#other.size > 0) this.#other.delete(id);
    // Rows are filled in order at start-up, so the array stays dense.
    while (this.#values.length < r) this.#values.push(undefined);
    this.#values[r] = value;
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  delete(id: string): boolean {
    const r = this.rowOf(id);
    if (r >= 0 && this.#values[r] !== undefined) {
      this.#values[r] = undefined;
      return true;
    }
    return this.#other.delete(id);
  }

  clear(): void {
    this.#values = [];
    this.#other.clear();
  }

  *[Symbol.iterator](): IterableIterator<[string, V]> {
    const values = this.#values;
    for (let r = 0; r < values.length; r++) {
      const v = values[r];
      if (v !== undefined) yield [this.idAt(r), v];
    }
    yield* this.#other;
  }
}
