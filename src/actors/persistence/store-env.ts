/**
 * The LMDB environment under a {@link Store} and the discipline every Store call follows: opening
 * (file checks, tables, schema version and migrations: store-open.ts), reads in a renewed snapshot,
 * writes in ONE child transaction resolved only once flushed, writes in flight awaited by close,
 * and the clock frame reads are made in. Kept apart from store.ts so that the Store class reads as
 * its operations over the tables, and this discipline reads in one place.
 * @internal
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PersistenceError, SchedulerError } from '../../errors';
import { openTables, SLOTS_TAGGED, storePath, type Tables } from './tables';
import { checkStoreFiles } from './store-check';
import { CLOCK_OFFSET_KEY, CLOCK_SEQ_KEY, CLOCK_SLOT_BASE_KEY } from './clock-frame';
import { writeFailure } from './store-errors';
import type { SlotFrame } from './fire-layout';
import { openedVersion } from './store-open';

/** Options of {@link Store.open}. */
export interface StoreOptions {
  /** Data directory; the LMDB environment lives in `<dataDir>/store`. */
  dataDir: string;
  /** Open without write access (no schema record is written; every write throws). @default false */
  readOnly?: boolean;
}

/** An open store's tables with its read and write discipline (see the file's header). */
export class StoreEnv {
  /** The tables, read and written only inside {@link read} and {@link write}. */
  readonly t: Tables;
  readonly #readOnly: boolean;
  /** Schema version of the store (0: empty store opened read-only). */
  readonly schemaVersion: number;
  #closed = false;
  /** Writes in flight: close() lets them finish (and flush) before it closes the environment. */
  readonly #pending = new Set<Promise<unknown>>();

  private constructor(t: Tables, readOnly: boolean, schemaVersion: number) {
    this.t = t;
    this.#readOnly = readOnly;
    this.schemaVersion = schemaVersion;
  }

  /**
   * Opens (creating if needed, unless `readOnly`) the store of a data directory and checks its
   * schema version.
   * @throws PersistenceError when the store cannot be opened, was written by a newer version, or
   * (read-only) does not exist.
   */
  static async open(opts: StoreOptions): Promise<StoreEnv> {
    const readOnly = opts.readOnly ?? false;
    const where = storePath(opts.dataDir);
    if (readOnly && !fs.existsSync(path.join(where, 'data.mdb'))) {
      throw new PersistenceError(`no store at ${where} (nothing to open read-only)`);
    }
    // Refuse what LMDB would crash on or silently replace (truncated, zeroed, wrong kind of file).
    checkStoreFiles(opts.dataDir, { readOnly });
    let t: Tables;
    try {
      t = openTables(opts.dataDir, readOnly);
    } catch (err) {
      throw new PersistenceError(`cannot open store at ${where}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const version = await openedVersion(t, where, readOnly);
      return new StoreEnv(t, readOnly, version);
    } catch (err) {
      await t.env.close().catch(() => undefined);
      if (err instanceof SchedulerError) throw err;
      throw new PersistenceError(`cannot open store at ${where}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Refuses new calls, waits for writes in flight, then closes the environment. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#pending]);
    await this.t.env.close();
  }

  /** @throws PersistenceError once {@link close} was called. */
  assertOpen(): void {
    if (this.#closed) throw new PersistenceError('the store is closed');
  }

  /** The sum of the clock steps handled (clock-frame.ts), read in the current snapshot. */
  clockOffset(): number {
    return this.t.meta.get(CLOCK_OFFSET_KEY) ?? 0;
  }

  /**
   * How slot times read at today's offset (clock-frame.ts `slotShift`). Untagged slots of a store
   * not yet version 6 (a read-only open) were written at its current offset, as far as it knows.
   */
  slotFrame(): SlotFrame {
    const offsetMs = this.clockOffset();
    const wall = (this.t.meta.get(CLOCK_SEQ_KEY) ?? 0) === 0;
    return { offsetMs, baseMs: this.t.meta.get(CLOCK_SLOT_BASE_KEY) ?? (this.schemaVersion < SLOTS_TAGGED ? offsetMs : 0), wall };
  }

  /**
   * Runs `fn` in a fresh read snapshot.
   * @throws PersistenceError if the store is closed or the read fails (SchedulerErrors pass through).
   */
  read<T>(fn: () => T): T {
    this.assertOpen();
    try {
      // lmdb-js reuses a read snapshot until the next event turn or its OWN next write; another
      // Store (another process, or another instance here) may have committed since. Renewing the
      // snapshot is cheap and makes every read see everything committed before it.
      this.t.env.resetReadTxn();
      return fn();
    } catch (err) {
      if (err instanceof SchedulerError) throw err;
      throw new PersistenceError(`store read failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Runs `fn` in ONE child transaction and resolves once that commit is flushed.
   * @throws PersistenceError if the store is closed or read-only, or the write fails.
   */
  async write<T>(fn: () => T): Promise<T> {
    this.assertOpen();
    if (this.#readOnly) throw new PersistenceError('the store was opened read-only');
    const done = this.#commit(fn);
    this.#pending.add(done);
    try {
      return await done;
    } finally {
      this.#pending.delete(done);
    }
  }

  async #commit<T>(fn: () => T): Promise<T> {
    try {
      const result = await this.t.env.childTransaction(fn);
      // "Acknowledged means on disk": under overlappingSync the commit above is visible but may not
      // be flushed yet (PITFALLS.md, lmdb).
      await this.t.env.flushed;
      return result;
    } catch (err) {
      if (err instanceof SchedulerError) throw err;
      // Names a full disk as such, and handles lmdb's separate commitError promise (store-errors.ts).
      throw await writeFailure(err, (this.t.env as unknown as { path?: string }).path ?? '.');
    }
  }
}
