/**
 * Store operations run in a child process of their own (`node store-tool.js OP ...`), so that a
 * damaged store that crashes LMDB (SIGSEGV/SIGBUS on a torn page) takes down only this helper,
 * never the daemon or the `doctor` that asked. Prints one JSON line on success.
 *
 * - `verify DATADIR`: opens the store read-only and reads every record of every table.
 * - `backup DATADIR DEST`: LMDB's consistent hot copy (mdb_env_copy with compaction) into DEST.
 * @internal
 */
import { mkdirSync } from 'node:fs';
import { open } from 'lmdb';
import { dbOptionsOf, envOptions, storePath } from '../actors/persistence/tables';
import { checkStoreFiles } from '../actors/persistence/store-check';

async function verify(dataDir: string): Promise<object> {
  checkStoreFiles(dataDir, { readOnly: true });
  const env = open(storePath(dataDir), envOptions(true));
  try {
    const tables: Record<string, number> = {};
    // Materialise the names first: opening a sub-database while a root cursor is open crashes lmdb-js.
    for (const key of [...env.getKeys({})]) {
      if (typeof key !== 'string') continue;
      // Each table with its own encoding (msgpack, or the compact layout of states and heads).
      const db = env.openDB(key, dbOptionsOf(key));
      let n = 0;
      for (const entry of db.getRange({})) if (entry.value !== undefined) n++;
      tables[key] = n;
    }
    return { ok: true, tables };
  } finally {
    await env.close();
  }
}

async function backup(dataDir: string, dest: string): Promise<object> {
  checkStoreFiles(dataDir, { readOnly: true });
  const env = open(storePath(dataDir), envOptions(true));
  try {
    mkdirSync(dest, { recursive: true, mode: 0o700 });
    await env.backup(dest, true);
    return { ok: true, dest };
  } finally {
    await env.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [op, dataDir, dest] = argv;
  try {
    if (op === 'verify' && dataDir) process.stdout.write(JSON.stringify(await verify(dataDir)) + '\n');
    else if (op === 'backup' && dataDir && dest) process.stdout.write(JSON.stringify(await backup(dataDir, dest)) + '\n');
    else throw new Error(`usage: store-tool verify DATADIR | backup DATADIR DEST`);
  } catch (err) {
    process.stdout.write(JSON.stringify({ ok: false, error: (err as Error).message }) + '\n');
    process.exitCode = 1;
  }
}

if (require.main === module) void main(process.argv.slice(2));
