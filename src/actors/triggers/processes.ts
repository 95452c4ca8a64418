/**
 * `process(NAME)` and `process(pidfile:PATH)` readings: which pids match (one scan of `/proc` per
 * sample for all names), then pidusage for their CPU and memory, summed over the matches.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import pidusage from 'pidusage';
import { procPids } from '../../workers/run/proc-scan';
import type { Reading } from './signals';

/** Reads processes under a `/proc` directory (a fake one in tests). */
export class ProcessReader {
  readonly #proc: string;

  constructor(procDir: string) {
    this.#proc = procDir;
  }

  /**
   * One reading per target (`NAME` or `pidfile:PATH`): `running` 1/0, `cpu` (% of one core, summed
   * over the matching processes, so it can exceed 100), `memoryBytes` (RSS, summed) and `memoryPercent` of RAM.
   */
  async read(targets: readonly string[]): Promise<Map<string, Reading>> {
    const names = targets.filter((t) => !t.startsWith('pidfile:'));
    const byName = names.length > 0 ? this.#scan(new Set(names)) : new Map<string, number[]>();
    const pidsOf = new Map<string, number[]>();
    await Promise.all(targets.map(async (t) => {
      pidsOf.set(t, t.startsWith('pidfile:') ? await this.#pidFile(t.slice(8)) : byName.get(t) ?? []);
    }));
    const all = [...new Set([...pidsOf.values()].flat())];
    const stats = await usage(all);
    const total = os.totalmem();
    const out = new Map<string, Reading>();
    for (const [t, pids] of pidsOf) {
      let cpu = 0;
      let mem = 0;
      let alive = 0;
      for (const pid of pids) {
        const s = stats.get(pid);
        if (!s) continue; // exited between the scan and pidusage
        alive++;
        cpu += s.cpu;
        mem += s.memory;
      }
      out.set(t, { running: alive > 0 ? 1 : 0, cpu, memoryBytes: mem, memoryPercent: total > 0 ? (mem / total) * 100 : 0 });
    }
    return out;
  }

  /**
   * name → matching pids, one pass over `/proc/<pid>/comm` (and `cmdline` for names over 15
   * characters). Synchronous on purpose: a few hundred tiny procfs reads take ~1 ms in one go,
   * against ~20 ms as as many round trips through libuv's thread pool on a loaded machine.
   */
  #scan(names: Set<string>): Map<string, number[]> {
    const out = new Map<string, number[]>();
    const read = (file: string): string => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return ''; // exited since readdir
      }
    };
    const pids = procPids(this.#proc);
    // Unlistable: the sample fails (health's `sampler` says so), not "no such process".
    if (pids === null) throw new Error(`cannot list the processes in ${this.#proc}`);
    for (const pid of pids) {
      if (pid === process.pid) continue; // the scheduler itself is never the process a condition means
      const e = String(pid);
      const comm = read(path.join(this.#proc, e, 'comm')).trim();
      let argv0: string | null = null;
      for (const n of names) {
        let match = comm === n;
        // comm is cut at 15 characters: a longer name is told by argv[0]'s base name, read only then.
        if (!match && comm.length === 15 && n.startsWith(comm)) {
          argv0 ??= path.basename(read(path.join(this.#proc, e, 'cmdline')).split('\0')[0] ?? '');
          match = argv0 === n;
        }
        if (match) out.set(n, [...(out.get(n) ?? []), pid]);
      }
    }
    return out;
  }

  async #pidFile(file: string): Promise<number[]> {
    let pid: number;
    try {
      pid = Number.parseInt((await readFile(file, 'utf8')).trim(), 10);
    } catch {
      return []; // no pid file: not running
    }
    if (!Number.isInteger(pid) || pid <= 0) return [];
    try {
      process.kill(pid, 0); // signal 0 only checks: ESRCH when it is gone
      return [pid];
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM' ? [pid] : []; // EPERM: alive, someone else's
    }
  }
}

/** pidusage for many pids; one that exits mid-call only drops that pid (pidusage fails the whole list). */
async function usage(pids: number[]): Promise<Map<number, { cpu: number; memory: number }>> {
  const out = new Map<number, { cpu: number; memory: number }>();
  if (pids.length === 0) return out;
  // Keep pidusage's per-pid history (and open fd) a little longer than our longest period, so CPU
  // is measured between our samples.
  const opts = { maxage: 15_000 };
  try {
    const all = await pidusage(pids, opts);
    for (const pid of pids) if (all[pid]) out.set(pid, { cpu: all[pid]!.cpu, memory: all[pid]!.memory });
  } catch {
    await Promise.all(pids.map(async (pid) => {
      try {
        const s = await pidusage(pid, opts);
        out.set(pid, { cpu: s.cpu, memory: s.memory });
      } catch {
        // gone
      }
    }));
  }
  return out;
}
