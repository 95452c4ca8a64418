/**
 * Automatic rotating hot backups (`rae-sched daemon --backup-every DUR --backup-keep N`): every
 * period, LMDB's own consistent copy of the live store (mdb_env_copy, compacted — a snapshot of
 * one committed transaction, taken while the daemon keeps writing) goes into
 * `<dataDir>/backups/store-<UTC time>/store/data.mdb` (each backup is a data directory of its own); the newest N are kept. Each copy is written under a
 * `.tmp` name, checked, then renamed, so a listed backup is always a complete one. Restoring one is
 * described in docs/operations.md ("Recovering a store").
 */
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../api';
import { checkStoreFiles } from '../actors/persistence/store-check';
import { STORE_DIR } from '../actors/persistence/store-dir';
import { runStoreTool } from './store-tool-client';

/** Options of {@link HotBackups}. */
export interface HotBackupOptions {
  dataDir: string;
  /** Folder holding the backups. */
  dir: string;
  everyMs: number;
  keep: number;
  logger: Logger;
}

const PREFIX = 'store-';

/** The complete backups in `dir`, oldest first (names sort by time). */
export function listHotBackups(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.startsWith(PREFIX) && !n.endsWith('.tmp')).sort().map((n) => join(dir, n));
  } catch {
    return [];
  }
}

/** Takes a backup every period until stopped. One at a time; a failure is logged and retried next period. */
export class HotBackups {
  readonly #o: HotBackupOptions;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(opts: HotBackupOptions) {
    this.#o = opts;
  }

  start(): void {
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.takeNow().finally(() => this.#schedule()), this.#o.everyMs);
    this.#timer.unref();
  }

  /** Takes one backup now and prunes old ones. Resolves with its path, or null when it failed. */
  async takeNow(): Promise<string | null> {
    const { dir, dataDir, keep, logger } = this.#o;
    const name = `${PREFIX}${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const tmp = join(dir, `${name}.tmp`);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // Each backup is itself a data directory (its store in `store/`): check it as one.
      const r = await runStoreTool(['backup', dataDir, join(tmp, STORE_DIR)]);
      if (!r.ok) throw new Error(r.error);
      checkStoreFiles(tmp, { readOnly: true });
      renameSync(tmp, join(dir, name));
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      logger.warn({ err: (err as Error).message, dir }, 'automatic backup failed; the next period tries again');
      return null;
    }
    const all = listHotBackups(dir);
    for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(old, { recursive: true, force: true });
    logger.info({ backup: join(dir, name), kept: Math.min(all.length, keep) }, 'automatic backup taken');
    return join(dir, name);
  }
}
