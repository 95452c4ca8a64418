/**
 * The modules a thread has imported, each reused until its file changes.
 *
 * Change detection: one `fs.statSync` per file per batch (the runs of one task share it) compares mtime and size with the
 * imported version. A changed file is imported again under a new URL, `file:///job.js?v=<mtime>-<size>`:
 * ES modules are cached by URL, so the query gives a fresh instance; CommonJS files imported that
 * way still go through `require.cache` (keyed by path, not URL), so their entry is deleted first.
 * Only the job file itself is reloaded: what it imports stays cached. An ES module can never be
 * unloaded, so every reload keeps the old version in memory; past {@link RELOADS_BEFORE_RECYCLE}
 * the thread asks to be replaced, which frees them all.
 */
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { importModule, pickEntry, type JobFunction } from './job-module';

/** Reloads a thread does before it asks to be recycled. */
export const RELOADS_BEFORE_RECYCLE = 100;

interface Loaded {
  version: string;
  entry: Promise<JobFunction | null>;
  /** What `entry` resolved to, once it has (`undefined` while importing, or if it failed). */
  value?: JobFunction | null;
}

/** Per-thread cache of job modules. */
export class ModuleCache {
  readonly #loaded = new Map<string, Loaded>();
  readonly #onRecycle: (reason: string) => void;
  #reloads = 0;

  constructor(onRecycle: (reason: string) => void) {
    this.#onRecycle = onRecycle;
  }

  /**
   * The entry function of `file` (absolute), importing it on first use or when it changed.
   * `checked`: files already compared with their last import for this batch.
   * @returns `null` when the module exports no function; rejects when it cannot be read or loaded.
   */
  load(file: string, checked: Set<string>): Promise<JobFunction | null> {
    const known = this.#loaded.get(file);
    // One stat per file per batch: the runs of one task start together and share it.
    if (known !== undefined && checked.has(file)) return known.entry;
    let version: string;
    try {
      const st = fs.statSync(file);
      version = `${st.mtimeMs}-${st.size}`;
    } catch (err) {
      return Promise.reject(err);
    }
    checked.add(file);
    if (known?.version === version) return known.entry;
    let url = pathToFileURL(file).href;
    if (known !== undefined) {
      delete require.cache[file];
      url += `?v=${encodeURIComponent(version)}`;
      if (++this.#reloads === RELOADS_BEFORE_RECYCLE) {
        this.#onRecycle(`${RELOADS_BEFORE_RECYCLE} module reloads: recycling the thread frees the old versions`);
      }
    }
    const entry = importModule(url).then(pickEntry);
    const loaded: Loaded = { version, entry };
    // The failure is the caller's (it awaits `entry`); this only remembers a success.
    entry.then((v) => (loaded.value = v), () => undefined);
    this.#loaded.set(file, loaded);
    return entry;
  }

  /**
   * The entry function of `file` without a promise, when this batch compared it with its last
   * import already and that import succeeded; else `undefined` (then call {@link load}).
   */
  loaded(file: string, checked: Set<string>): JobFunction | null | undefined {
    if (!checked.has(file)) return undefined;
    return this.#loaded.get(file)?.value;
  }
}
