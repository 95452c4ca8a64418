/**
 * The /proc marker scan — the containment a non-root daemon (or a read-only cgroupfs) falls back
 * to — forced with RAE_SCHED_CONTAINMENT=proc, so that a machine with cgroups (CI here: root,
 * cgroup v1) still runs the fallback's CPU-limit kill (limits.int.test.ts covers the machine's own
 * mechanism). The real binary in the foreground: jest's sandboxed process.env would not reach the
 * executor's worker threads, a child process's environment does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rae } from '../cli/harness';

jest.setTimeout(90_000);

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'rae-proc-')); });
afterAll(() => rm(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => rae([...args, '--data-dir', dir], { env: { RAE_SCHED_CONTAINMENT: 'proc' }, timeoutMs: 80_000 });

it('doctor names the forced fallback', async () => {
  expect((await cli('add', 'busy', 'never', 'while :; do :; done', '--max-cpu', '20', '--timeout', '60s')).code).toBe(0);
  expect((await cli('doctor')).stdout).toMatch(/containment +\/proc marker scan \(RAE_SCHED_CONTAINMENT=proc\)/);
});

it('kills a sustained busy loop over --max-cpu, naming the limit', async () => {
  const r = await cli('run', 'busy', '--wait');
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/status: +killed/);
  expect(r.stdout).toMatch(/exceeded the CPU limit: \d+% > maxCpuPercent 20%/);
});
