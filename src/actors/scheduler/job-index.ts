/**
 * What the scheduler keeps in memory about EVERY job: its id, name and a few flags, packed into a
 * small integer per job. Full job specs stay in LMDB and are read (through a bounded cache) when a
 * job fires or is shown, so memory per job is this index plus its timeline entry (docs/benchmarks.md
 * has the measured totals).
 */
import type { Job } from '../../model/job';
import type { Schedule } from '../parser/schedule';

const ENABLED = 1;
const DONE = 2;
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

/** What the index needs of a job (a stored job head has exactly these). */
export interface IndexFacts {
  id: string;
  name: string;
  enabled: boolean;
  done: boolean;
  /** Upstream jobs of its `--after` triggers. */
  after: string[];
}

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
  readonly #flags = new Map<string, number>();
  readonly #names = new Map<string, string>();
  /** Upstream job name or id → ids of jobs with an `--after` trigger on it (usually empty). */
  readonly #dependents = new Map<string, Set<string>>();

  get size(): number {
    return this.#flags.size;
  }

  /** Adds or updates a job. */
  set(job: IndexFacts, kind: IndexedKind): void {
    // (Checked only when there are edges: start-up sets a million jobs, nearly all without.)
    if (job.after.length > 0 && !this.#flags.has(job.id)) {
      for (const upstream of job.after) {
        const set = this.#dependents.get(upstream) ?? new Set<string>();
        set.add(job.id);
        this.#dependents.set(upstream, set);
      }
    }
    this.#flags.set(job.id, (job.enabled ? ENABLED : 0) | (job.done ? DONE : 0) | (KINDS.indexOf(kind) << KIND_SHIFT));
    this.#names.set(job.name, job.id);
  }

  delete(job: Pick<Job, 'id' | 'name'>): void {
    this.#flags.delete(job.id);
    if (this.#names.get(job.name) === job.id) this.#names.delete(job.name);
    for (const [upstream, set] of this.#dependents) {
      set.delete(job.id);
      if (set.size === 0) this.#dependents.delete(upstream);
    }
  }

  clear(): void {
    this.#flags.clear();
    this.#names.clear();
    this.#dependents.clear();
  }

  /** The id of a job given by id or name. */
  idOf(ref: string): string | undefined {
    return this.#flags.has(ref) ? ref : this.#names.get(ref);
  }

  hasName(name: string): boolean {
    return this.#names.has(name);
  }

  get(id: string): IndexEntry | undefined {
    const f = this.#flags.get(id);
    if (f === undefined) return undefined;
    return { enabled: (f & ENABLED) !== 0, done: (f & DONE) !== 0, kind: KINDS[f >> KIND_SHIFT] ?? 'none' };
  }

  /** Ids of jobs that may fire: enabled, not done, with a schedule that parses. */
  *active(): IterableIterator<string> {
    for (const [id, f] of this.#flags) {
      if ((f & ENABLED) !== 0 && (f & DONE) === 0 && f >> KIND_SHIFT !== 0) yield id;
    }
  }

  /** Ids of jobs whose `--after` trigger names `job` (by name or id). */
  dependentsOf(job: Pick<Job, 'id' | 'name'>): string[] {
    return [...(this.#dependents.get(job.name) ?? []), ...(this.#dependents.get(job.id) ?? [])];
  }

  /**
   * `--after` edges whose upstream (name or id, as written) is no job any more, with the dependent's
   * name; done (one-time, fired) dependents are left out. Usually empty: costs one look-up per
   * distinct upstream, and a pass over the names only when some are missing.
   */
  danglingAfter(): Array<{ name: string; upstream: string }> {
    const found: Array<{ id: string; upstream: string }> = [];
    for (const [upstream, ids] of this.#dependents) {
      if (this.idOf(upstream) !== undefined) continue;
      for (const id of ids) if (((this.#flags.get(id) ?? DONE) & DONE) === 0) found.push({ id, upstream });
    }
    if (found.length === 0) return [];
    const nameOf = new Map<string, string>();
    for (const [name, id] of this.#names) nameOf.set(id, name);
    return found.map((f) => ({ name: nameOf.get(f.id) ?? f.id, upstream: f.upstream }));
  }

  counts(): { total: number; enabled: number; paused: number; done: number } {
    let enabled = 0;
    let paused = 0;
    let done = 0;
    for (const f of this.#flags.values()) {
      if ((f & DONE) !== 0) done++;
      else if ((f & ENABLED) !== 0) enabled++;
      else paused++;
    }
    return { total: this.#flags.size, enabled, paused, done };
  }
}
