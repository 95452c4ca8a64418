/**
 * What every W6 case shares: concurrent `addJob` callers running through a crash, and the check
 * that no acknowledged job is lost (on the same scheduler, and after a fresh start on its store).
 */
import type { Scheduler } from '../../src';
import type { InternalOptions } from '../../src/scheduler';
import { openScheduler } from './rae';

/** Scheduler options with or without the spare thread workers the daemon keeps (`standby`). */
export function withStandby(standby: boolean): Omit<InternalOptions, 'dataDir'> {
  return { maxConcurrentJobs: 4, standby };
}

/** The spec every W6 job is added with. */
export const w6Spec = (name: string, schedule = 'every 6 hours'): Parameters<Scheduler['addJob']>[0] =>
  ({ name, schedule, timezone: 'UTC', command: { argv: ['/bin/true'] } });

/** `n` callers adding jobs in a loop until `stop()`; what was acknowledged, what failed (by code). */
export function addCallers(s: Scheduler, n: number): { acked: string[]; failed: Record<string, number>; inFlight(): number; stop(): Promise<void> } {
  const acked: string[] = [];
  const failed: Record<string, number> = {};
  let inFlight = 0;
  let seq = 0;
  let stopped = false;
  const loops = Array.from({ length: n }, async () => {
    while (!stopped) {
      const name = `job-${seq++}`;
      inFlight++;
      try {
        await s.addJob(w6Spec(name));
        acked.push(name);
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'ERROR';
        failed[code] = (failed[code] ?? 0) + 1;
      } finally {
        inFlight--;
      }
    }
  });
  return { acked, failed, inFlight: () => inFlight, stop: async () => { stopped = true; await Promise.all(loops); } };
}

/**
 * Acknowledged jobs missing: from `listJobs` on `s`, then after shutting it down and opening a
 * fresh scheduler on its store (left open in `reopened` for the caller's clean-up).
 */
async function lostJobs(s: Scheduler, dataDir: string, acked: string[]): Promise<{ lostLive: number; lostAfterRestart: number; reopened: Awaited<ReturnType<typeof openScheduler>> }> {
  const names = new Set((await s.listJobs()).map((j) => j.name));
  const lostLive = acked.filter((n) => !names.has(n)).length;
  await s.shutdown({ graceMs: 1000 });
  const reopened = await openScheduler({ maxConcurrentJobs: 4 }, dataDir);
  const stored = new Set((await reopened.s.listJobs()).map((j) => j.name));
  return { lostLive, lostAfterRestart: acked.filter((n) => !stored.has(n)).length, reopened };
}

/**
 * The loss figures every W6 case reports — calls that failed (unacknowledged), acknowledged jobs
 * lost live and after a restart ({@link lostJobs}: `s` is shut down, `reopened` left open).
 */
export async function lossFigures(s: Scheduler, dataDir: string, acked: string[], failed: Record<string, number>): Promise<{
  reopened: Awaited<ReturnType<typeof openScheduler>>;
  metrics: { failed: number; lost: number; lostLive: number; lostAfterRestart: number };
}> {
  const { lostLive, lostAfterRestart, reopened } = await lostJobs(s, dataDir, acked);
  const total = Object.values(failed).reduce((x, y) => x + y, 0);
  return { reopened, metrics: { failed: total, lost: Math.max(lostLive, lostAfterRestart), lostLive, lostAfterRestart } };
}

/** The note naming the calls that were not acknowledged. */
export function failedNote(who: string, failed: Record<string, number>): string[] {
  const total = Object.values(failed).reduce((x, y) => x + y, 0);
  return total > 0 ? [`${who}: not acknowledged (caller got an error): ${Object.entries(failed).map(([k, v]) => `${v} ${k}`).join(', ')}`] : [];
}
