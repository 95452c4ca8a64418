/**
 * The one /proc scanner: every place that looks at the machine's processes (a run's process group,
 * its escaped descendants, crash clean-up, the `process(NAME)` usage condition) walks /proc through here.
 *
 * Synchronous on purpose: /proc files are generated from kernel memory and never wait on a disk,
 * so a blocking open/read/close is a few microseconds, while `fs.promises.readFile` costs an
 * open, fstat, read and close, each a thread-pool round trip, per process on the machine. That
 * async scan, run twice per run, was over half of the executor threads' CPU (docs/benchmarks.md).
 */
import fs from 'node:fs';

const PROC = '/proc';
/** A stat line is ~300 bytes; `comm` is at most 16. Longer never happens, and we only need the head. */
const STAT_BYTES = 1024;

/** The head of `/proc/<pid>/stat` that we use. */
export interface StatHead {
  state: string;
  pgrp: number;
  /** Start time, clock ticks after boot (field 22). */
  start: number;
}

/** Parses `/proc/<pid>/stat`. `comm` may hold spaces and parens, hence the last `)`. */
export function parseStat(text: string): StatHead | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const f = text.slice(close + 2).split(' ');
  const pgrp = Number(f[2]);
  const start = Number(f[19]);
  return f[0] && Number.isInteger(pgrp) && Number.isFinite(start) ? { state: f[0], pgrp, start } : null;
}

function readSmall(path: string, buf: Buffer): string | null {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch {
    return null; // The process exited between readdir and open.
  }
  try {
    return buf.toString('latin1', 0, fs.readSync(fd, buf, 0, buf.length, 0));
  } catch {
    return null; // ESRCH on read: the process exited after open.
  } finally {
    fs.closeSync(fd);
  }
}

/** `stat` of one process, or null when it is gone. */
export function statOf(pid: number): StatHead | null {
  const text = readSmall(`${PROC}/${pid}/stat`, Buffer.allocUnsafe(STAT_BYTES));
  return text === null ? null : parseStat(text);
}

/** Start time (clock ticks after boot) of `pid`, or null. */
export function startTicks(pid: number): number | null {
  return statOf(pid)?.start ?? null;
}

/** The environment of `pid` as /proc shows it (NUL-separated), or null (gone, not ours). */
export function environOf(pid: number): string | null {
  try {
    return fs.readFileSync(`${PROC}/${pid}/environ`, 'latin1');
  } catch {
    return null;
  }
}

/** Whether a NUL-separated environment holds `NAME=value` exactly. */
export function envHas(env: string, entry: string): boolean {
  const marker = `${entry}\0`;
  return env.startsWith(marker) || env.includes(`\0${marker}`);
}

/** The value of `NAME` in a NUL-separated environment. */
export function envValue(env: string, name: string): string | undefined {
  let at = 0;
  if (!env.startsWith(`${name}=`)) {
    const i = env.indexOf(`\0${name}=`);
    if (i < 0) return undefined;
    at = i + 1;
  }
  const from = at + name.length + 1;
  const end = env.indexOf('\0', from);
  return env.slice(from, end < 0 ? env.length : end);
}

/**
 * Calls `visit` for every live (not zombie) process, with its stat head. `null` where /proc cannot
 * be listed (not Linux). Zombies are skipped: in a container whose init does not reap, a killed
 * grandchild stays a zombie forever, and it holds no resources.
 */
export function scanProc(visit: (pid: number, stat: StatHead) => void): boolean {
  const pids = procPids();
  if (pids === null) return false;
  const buf = Buffer.allocUnsafe(STAT_BYTES);
  for (const pid of pids) {
    const text = readSmall(`${PROC}/${pid}/stat`, buf);
    const st = text === null ? null : parseStat(text);
    if (!st || st.state === 'Z' || st.state === 'X') continue;
    visit(pid, st);
  }
  return true;
}

/**
 * The pids listed in a /proc directory (`root`: a fake one in tests), in directory order, or null
 * where it cannot be listed (not Linux). The one walk of the machine's processes: {@link scanProc}
 * and the `process(NAME)` usage condition (src/actors/triggers/processes.ts) both start here.
 */
export function procPids(root: string = PROC): number[] | null {
  let entries: string[];
  try {
    entries = fs.readdirSync(root);
  } catch {
    return null;
  }
  const out: number[] = [];
  for (const name of entries) if (/^\d+$/.test(name)) out.push(Number(name));
  return out;
}
