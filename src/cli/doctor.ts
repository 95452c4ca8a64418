/**
 * `rae-sched doctor`: checks what an operator needs to know before (re)starting a daemon or after a
 * failure — the data directory and its permissions, the lock, the socket, the store (file checks,
 * then a full read in a separate process, where a crash in LMDB is contained), free space, the log
 * file and the automatic backups. Read-only: it changes nothing. Exit 0 when nothing failed.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { checkStoreFiles } from '../actors/persistence/store-check';
import { detectContainment } from '../workers/run/cgroup-detect';
import { STORE_DIR } from '../actors/persistence/store-dir';
import { daemonAnswers } from './client';
import { listHotBackups } from './hot-backup';
import { DataDirLock } from './lock';
import { dataDirPaths } from './paths';
import { runStoreTool } from './store-tool-client';

/** One check's verdict. */
export interface DoctorCheck {
  name: 'data-dir' | 'lock' | 'socket' | 'store' | 'free-space' | 'log' | 'backups' | 'containment';
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  /** What to do about it (warn/fail). */
  hint?: string;
}

/** The whole report (`doctor --json`). */
export interface DoctorReport {
  dataDir: string;
  healthy: boolean;
  checks: DoctorCheck[];
}

/** Free space below which the store check fails / warns (bytes and share of the file system). */
export const FREE_FAIL = { bytes: 64 * 1024 * 1024, share: 0.01 };
export const FREE_WARN = { bytes: 512 * 1024 * 1024, share: 0.05 };

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;

/** Runs every check on `dataDir`. Never throws for what it finds. */
export async function runDoctor(dataDir: string): Promise<DoctorReport> {
  const paths = dataDirPaths(dataDir);
  const checks: DoctorCheck[] = [];
  const add = (c: DoctorCheck) => checks.push(c);

  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(paths.dataDir);
  } catch (err) {
    add({ name: 'data-dir', status: 'fail', detail: `${paths.dataDir} cannot be read (${(err as NodeJS.ErrnoException).code})`,
      hint: 'create it with `rae-sched daemon --data-dir DIR`, or fix the path' });
  }
  if (st && !st.isDirectory()) add({ name: 'data-dir', status: 'fail', detail: `${paths.dataDir} is not a directory`, hint: 'move it away' });
  else if (st) {
    const mode = st.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      add({ name: 'data-dir', status: 'warn', detail: `${paths.dataDir} is mode ${mode.toString(8)} (others may read logs and backups)`,
        hint: `chmod 700 ${paths.dataDir}` });
    } else add({ name: 'data-dir', status: 'ok', detail: `${paths.dataDir} (mode ${mode.toString(8)}, uid ${st.uid})` });
  }
  if (!st?.isDirectory()) return { dataDir: paths.dataDir, healthy: false, checks };

  const lock = DataDirLock.probe(paths.lockFile, paths.pidFile);
  if (lock.held) add({ name: 'lock', status: 'ok', detail: `held by a running daemon${lock.pid === null ? '' : ` (pid ${lock.pid})`}` });
  else if (lock.pid !== null) {
    add({ name: 'lock', status: 'warn', detail: `free, but a stale pid file names pid ${lock.pid} (the daemon did not stop cleanly)`,
      hint: 'nothing to do: the next daemon takes the lock and rewrites it' });
  } else add({ name: 'lock', status: 'ok', detail: 'free: no daemon runs on this data directory' });

  const sock = fs.lstatSync(paths.socket, { throwIfNoEntry: false });
  const answers = sock ? await daemonAnswers(paths.socket) : false;
  if (!sock) {
    add(lock.held
      ? { name: 'socket', status: 'fail', detail: `the daemon holds the lock but ${paths.socket} is missing`, hint: 'restart the daemon' }
      : { name: 'socket', status: 'ok', detail: 'none (no daemon)' });
  } else if (!sock.isSocket()) {
    add({ name: 'socket', status: 'fail', detail: `${paths.socket} is not a socket`, hint: 'move it away; the daemon creates it' });
  } else if ((sock.mode & 0o077) !== 0) {
    add({ name: 'socket', status: 'fail', detail: `${paths.socket} is mode ${(sock.mode & 0o777).toString(8)}: other users may drive the scheduler`,
      hint: 'stop the daemon and start it again (it creates the socket 0600)' });
  } else if (answers) add({ name: 'socket', status: 'ok', detail: `${paths.socket} answers (mode 600)` });
  else {
    add(lock.held
      ? { name: 'socket', status: 'fail', detail: `the daemon holds the lock but does not answer on ${paths.socket}`, hint: 'see its log; restart it' }
      : { name: 'socket', status: 'warn', detail: `${paths.socket} is left over from a daemon that stopped uncleanly`, hint: 'nothing to do: the next daemon replaces it' });
  }

  add(await storeCheck(paths.dataDir, paths.backupDir));
  add(freeSpace(paths.dataDir));
  add(logCheck(paths.logFile));

  const backups = listHotBackups(paths.backupDir);
  if (backups.length === 0) {
    add({ name: 'backups', status: 'warn', detail: `no automatic backups in ${paths.backupDir}`,
      hint: 'run the daemon with --backup-every 6h (or take `rae-sched backup FILE` regularly)' });
  } else {
    const newest = backups[backups.length - 1]!;
    const age = Date.now() - fs.statSync(newest).mtimeMs;
    add({ name: 'backups', status: 'ok', detail: `${backups.length} automatic backup(s); newest ${newest} (${Math.round(age / 60_000)} min old)` });
  }
  add(containmentCheck());
  return { dataDir: paths.dataDir, healthy: !checks.some((c) => c.status === 'fail'), checks };
}

/** Which containment a daemon started here gets (probed: nothing is created); `health` says what a running one has. */
function containmentCheck(): DoctorCheck {
  const c = detectContainment(true);
  if (c.kind !== 'proc') return { name: 'containment', status: 'ok', detail: c.summary };
  return { name: 'containment', status: 'warn', detail: c.summary,
    hint: 'run the daemon as root with writable cgroups, or in a delegated cgroup v2 group, for the kernel to contain runs (docs/jobs.md "Containment")' };
}

async function storeCheck(dataDir: string, backupDir: string): Promise<DoctorCheck> {
  const restoreHint = (): string => {
    const newest = listHotBackups(backupDir).pop();
    return newest
      ? `stop the daemon, then: mv ${join(dataDir, STORE_DIR)} ${join(dataDir, STORE_DIR)}.damaged && cp -a ${join(newest, STORE_DIR)} ${join(dataDir, STORE_DIR)}`
      : `stop the daemon, move ${join(dataDir, STORE_DIR)} away, then \`rae-sched restore BACKUP.json\` (docs/operations.md "Recovering a store")`;
  };
  if (!fs.existsSync(join(dataDir, STORE_DIR, 'data.mdb')) && !fs.existsSync(join(dataDir, STORE_DIR))) {
    return { name: 'store', status: 'ok', detail: 'no store yet (created on first use)' };
  }
  try {
    checkStoreFiles(dataDir, { readOnly: true });
  } catch (err) {
    return { name: 'store', status: 'fail', detail: (err as Error).message.split(': restore it')[0]!, hint: restoreHint() };
  }
  const r = await runStoreTool(['verify', dataDir]);
  if (!r.ok) return { name: 'store', status: 'fail', detail: `reading the whole store failed: ${r.error}`, hint: restoreHint() };
  const tables = (r as { tables?: Record<string, number> }).tables ?? {};
  return { name: 'store', status: 'ok', detail: `readable: ${tables.jobs ?? 0} jobs, ${tables.runs ?? 0} runs, ${tables.slots ?? 0} slots` };
}

function freeSpace(dataDir: string): DoctorCheck {
  try {
    const s = fs.statfsSync(dataDir);
    const free = s.bavail * s.bsize;
    const share = s.blocks > 0 ? s.bavail / s.blocks : 1;
    const detail = `${mb(free)} free (${(share * 100).toFixed(1)}% of the file system)`;
    if (free < FREE_FAIL.bytes || share < FREE_FAIL.share) {
      return { name: 'free-space', status: 'fail', detail, hint: 'free space: writes (adds, runs) are refused while the disk is full' };
    }
    if (free < FREE_WARN.bytes || share < FREE_WARN.share) return { name: 'free-space', status: 'warn', detail, hint: 'free some space soon' };
    return { name: 'free-space', status: 'ok', detail };
  } catch (err) {
    return { name: 'free-space', status: 'warn', detail: `cannot tell (${(err as NodeJS.ErrnoException).code})` };
  }
}

function logCheck(logFile: string): DoctorCheck {
  try {
    fs.accessSync(logFile, fs.constants.W_OK);
    return { name: 'log', status: 'ok', detail: `${logFile} is writable` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { name: 'log', status: 'ok', detail: 'no log yet' };
    return { name: 'log', status: 'warn', detail: `${logFile} is not writable (${code}): log lines go to stderr only`, hint: 'fix its permissions' };
  }
}

/** The human-readable report: one line per check, hints indented below. */
export function formatDoctor(r: DoctorReport): string {
  const lines = [`data directory: ${r.dataDir}`];
  for (const c of r.checks) {
    lines.push(`${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(10)}  ${c.detail}`);
    if (c.hint && c.status !== 'ok') lines.push(`${' '.repeat(18)}→ ${c.hint}`);
  }
  lines.push(r.healthy ? 'healthy' : 'NOT healthy');
  return lines.join('\n');
}
