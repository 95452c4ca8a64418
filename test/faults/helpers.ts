/**
 * Shared pieces of the standing fault suite (test/faults): temp data dirs, /proc probes, and the
 * tally of faults tried / held that each suite prints, so a CI log shows what was exercised.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether this process may do what the root-only faults need (mount tmpfs, switch user). */
export const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

/** Prints why a fault is skipped on this machine (never silently). */
export function skipBecause(what: string, why: string): void {
  process.stderr.write(`[fault-suite] SKIPPED ${what}: ${why}\n`);
}

/** A fresh temp directory, removed by the returned function. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Pids of live processes whose environment holds `NAME=value` (zombies excluded). */
export function pidsWithEnv(name: string, value: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') continue;
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      if (env.includes(`${name}=${value}`)) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

/** Whether `pid` is alive and not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * Per-test temp data directory and the daemons started on it (killed if still running after the
 * test), for suites that drive the real binary. `track` registers a daemon for that clean-up.
 */
export function useDaemonDir(prefix: string): { dir(): string; track<D extends DaemonLike>(d: D): D } {
  let dir = '';
  let cleanup: () => Promise<void> = async () => undefined;
  const daemons: DaemonLike[] = [];
  beforeEach(async () => ({ dir, cleanup } = await tempDir(prefix)));
  afterEach(async () => {
    for (const d of daemons.splice(0)) {
      if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
      await d.exited;
    }
    await cleanup();
  });
  return { dir: () => dir, track: (d) => { daemons.push(d); return d; } };
}

/** What {@link useDaemonDir} needs of a daemon handle (test/cli/harness.ts `DaemonHandle`). */
export interface DaemonLike {
  child: { exitCode: number | null; signalCode: string | null; kill(signal: NodeJS.Signals): boolean };
  exited: Promise<unknown>;
}
