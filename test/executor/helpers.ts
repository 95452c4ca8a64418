/** Shared helpers of the executor tests: requests, temp dirs, and /proc checks. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunRequest } from '../../src/actors/executor';
import { newId } from '../../src/model/ids';

/** A run request for a command, with overrides. */
export function request(over: Partial<RunRequest> = {}): RunRequest {
  return {
    runId: newId('run'),
    jobId: 'job-test',
    attempt: 1,
    command: null,
    module: null,
    cwd: null,
    env: {},
    limits: {},
    ...over,
  };
}

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rae-exec-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Whether `pid` is a live (non-zombie) process, from /proc. */
export function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Pids printed one per line by a test command. */
export function printedPids(output: string): number[] {
  return output
    .split('\n')
    .filter((l) => /^\d+$/.test(l.trim()))
    .map(Number);
}
