/** What every command shares: its common options, output, and the Scheduler it talks to. */
import type { Command } from 'commander';
import type { Scheduler } from '../api';
import { openBackend } from './backend';
import { existsSync } from 'node:fs';
import { NotFoundError } from '../errors';
import { dataDirPaths, resolveDataDir } from './paths';

/** Options every command takes. */
export interface CommonOptions {
  dataDir?: string;
  json?: boolean;
  debug?: boolean;
}

/** Where a command writes. Injected so the CLI can run in-process in unit tests. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** The standard streams. */
export const processIo: Io = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

/** Adds `--data-dir`, `--json` and `--debug` to a command. */
export function withCommonOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'data directory (default: $RAE_SCHED_HOME, else ~/.rae-sched)')
    .option('--json', 'machine-readable output: one JSON document on stdout')
    .option('--debug', 'print stack traces with errors');
}

/** Stands for the NAME of `add` when it was given with `--name` (see main.ts `takeAddName`). */
export const ADD_NAME_PLACEHOLDER = '\u0000name';

/** One CLI invocation: its IO, caller's directory and environment, and the exit code it will return. */
export class CliContext {
  /** Exit code of the invocation; commands set 1 for "ran, but the outcome is a failure". */
  exitCode = 0;
  /** `add --name NAME`: the job name, given as an option (it may start with `-`). */
  addName: string | undefined;
  readonly io: Io;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(io: Io = processIo, cwd: string = process.cwd(), env: NodeJS.ProcessEnv = process.env) {
    this.io = io;
    this.cwd = cwd;
    this.env = env;
  }

  /** The data directory chosen by the options. */
  dataDir(opts: CommonOptions): string {
    return resolveDataDir(opts.dataDir, this.env);
  }

  /** Prints `value` as one JSON document with `--json`, else the human text. */
  print(opts: CommonOptions, value: unknown, human: () => string): void {
    this.io.stdout(opts.json ? JSON.stringify(value, null, 2) + '\n' : human() + '\n');
  }

  /**
   * {@link withScheduler} for commands that only read: a data directory without a store (a typo in
   * `--data-dir`) is a NotFoundError (exit 1) instead of a new, empty store and "no jobs".
   */
  async withStore<T>(opts: CommonOptions, fn: (s: Scheduler, remote: boolean) => Promise<T>): Promise<T> {
    const dir = this.dataDir(opts);
    if (!existsSync(dataDirPaths(dir).store)) {
      throw new NotFoundError(`no store in ${dir} (check --data-dir / $RAE_SCHED_HOME; \`rae-sched add\` or \`rae-sched daemon\` creates one)`);
    }
    return this.withScheduler(opts, fn);
  }

  /** Runs `fn` against the data directory's Scheduler (daemon or local store) and closes it after. */
  async withScheduler<T>(
    opts: CommonOptions,
    fn: (s: Scheduler, remote: boolean) => Promise<T>,
    requireDaemon?: string,
  ): Promise<T> {
    const backend = await openBackend(this.dataDir(opts), requireDaemon === undefined ? {} : { requireDaemon });
    try {
      return await fn(backend.scheduler, backend.remote);
    } finally {
      await backend.close();
    }
  }
}
