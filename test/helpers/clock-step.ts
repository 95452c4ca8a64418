/** Helpers of the clock-step tests: the step child (step-child.ts) run and killed, and each job's slots. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { Scheduler } from '../../src/api';

/** Runs the step child (test/helpers/step-child.ts) until it says `stepped`, then kills it with SIGKILL. */
export async function stepThenKill(dir: string, t0: number, jobs: number, mode: 'durable' | 'unrecorded' | 'after', extra: string[] = []): Promise<void> {
  const child = spawn(process.execPath, [path.join(__dirname, 'step-child.js'), dir, String(t0), String(jobs), mode, ...extra],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => child.once('exit', r));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the step child never stepped')), 120_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line !== 'stepped') return;
      clearTimeout(t);
      child.kill('SIGKILL');
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`the step child exited (${code}) before it stepped`)));
  });
  await exited;
}

/** Every job's slot outcomes: its slot times must be distinct; returns them per job. */
export async function slotsPerJob(s: Scheduler): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const job of await s.listJobs()) {
    const slots = (await s.why(job.name)).slots;
    out.set(job.name, slots.map((sl) => `${sl.at} ${sl.outcome}`));
  }
  return out;
}
