/** Runs the real `bin/rae-sched` binary in child processes, for the CLI's integration tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join, resolve } from 'node:path';

/** The shim users run: dist/test/cli → repository root → bin/rae-sched. */
export const BIN = resolve(__dirname, '../../../bin/rae-sched');

/** What one invocation printed and returned. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `rae-sched ...args` to completion (with a generous bound: the machine is shared). */
export function rae(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rae-sched ${args.join(' ')} did not finish: ${stderr}`));
    }, opts.timeoutMs ?? 45_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** Adds `extra` options to `args`, before a `--` if there is one (what follows it is the job's argv). */
export function withOptions(args: string[], extra: string[]): string[] {
  const dd = args.indexOf('--');
  return dd < 0 ? [...args, ...extra] : [...args.slice(0, dd), ...extra, ...args.slice(dd)];
}

/** Asserts a usage/validation failure: exit 2, exactly one `rae-sched: error:` line, no stack. */
export function expectUsageError(r: CliResult, mentions: string): void {
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^rae-sched: error: /);
  expect(lines[0]).toContain(mentions);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** GET on the control socket; status and body. */
export function socketGet(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolveGet, reject) => {
    const req = request({ socketPath, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A daemon started by a test. */
export interface DaemonHandle {
  child: ChildProcess;
  socket: string;
  output: () => string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string | null>;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string | null>;
}

/** Starts `rae-sched daemon --data-dir dir` (through `bin`) and waits until its socket answers health. */
export async function startDaemon(dataDir: string, extra: string[] = [], bin: string = BIN, env?: NodeJS.ProcessEnv): Promise<DaemonHandle> {
  const child = spawn(process.execPath, [bin, 'daemon', '--data-dir', dataDir, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'], ...(env === undefined ? {} : { env: { ...process.env, ...env } }),
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | string | null>((r) => child.once('exit', (code, sig) => r(code ?? sig)));
  const socket = join(dataDir, 'rae-sched.sock');
  let gone = false;
  void exited.then(() => (gone = true));
  await eventually(async () => {
    if (gone) throw new Error(`daemon exited during start-up:\n${out}`);
    return socketGet(socket, '/v1/health').then((r) => (r.status === 200 ? true : undefined), () => undefined);
  }, 'the daemon to answer on its socket', 40_000);
  return {
    child, socket, exited, output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (!gone) child.kill(signal);
      return exited;
    },
  };
}
