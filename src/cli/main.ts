/**
 * `rae-sched`: the command-line entry. Parses arguments with commander, runs one command against the
 * daemon (or the store directly), and maps every outcome to an exit code:
 * 0 success, 1 the operation failed, 2 usage or validation error — errors as ONE stderr line
 * `rae-sched: error: ...`, with a stack trace only under `--debug`.
 */
import { Command, CommanderError } from 'commander';
import { type SerializedError, serializeError } from '../errors';
import { packageVersion } from '../version';
import { ADD_NAME_PLACEHOLDER, CliContext, type Io, processIo } from './context';
import { registerJobCommands } from './commands/jobs';
import { registerCompletionCommand } from './commands/completion';
import { registerNextCommand } from './commands/next';
import { registerSystemCommands } from './commands/system';
import { registerApiCommands } from './commands/api';

/** Exit codes of `rae-sched` (CONTRACT.md "CLI"). */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;

/** Commander's own non-error exits (help, version). */
const QUIET_EXITS = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);

/** Builds the `rae-sched` program for one invocation. */
export function buildProgram(ctx: CliContext, argvCommand: string[] | undefined): Command {
  const program = new Command('rae-sched');
  program
    .description('Rae scheduler: run jobs by time, file-system events and usage patterns')
    .version(packageVersion(), '-V, --version')
    // Set before the subcommands are added so they inherit both: every parse error becomes a
    // CommanderError we format ourselves, and commander prints nothing of its own but help.
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.stdout(s),
      writeErr: (s) => ctx.io.stderr(s),
      outputError: () => undefined,
    })
    .showSuggestionAfterError(true);
  registerSystemCommands(program, ctx);
  registerJobCommands(program, ctx, argvCommand);
  registerNextCommand(program, ctx);
  registerApiCommands(program, ctx);
  registerCompletionCommand(program, ctx);
  return program;
}


/**
 * `add NAME SCHEDULE -- PROG ARG...`: everything after the first `--` is the job's argv. It is split
 * off before commander parses, since commander folds it into the positional arguments and a shell
 * string `"echo hi"` could no longer be told from the argv `echo hi`.
 */
function splitArgvCommand(argv: string[]): { args: string[]; argvCommand: string[] | undefined } {
  const dd = argv.indexOf('--');
  if (dd < 0) return { args: argv, argvCommand: undefined };
  return { args: argv.slice(0, dd), argvCommand: argv.slice(dd + 1) };
}

/** Options every command takes, accepted before the command name too (`rae-sched --json list`). */
const GLOBAL_FLAGS = new Set(['--json', '--debug']);
const GLOBAL_VALUES = new Set(['--data-dir']);

/**
 * Moves the common options typed before the command name to just after it, where every command
 * declares them: `rae-sched --data-dir X list` is `rae-sched list --data-dir X`. Anything else
 * before the command (`--help`, `-V`, an unknown option) is left for commander to judge.
 */
export function hoistGlobalOptions(args: string[]): string[] {
  const moved: string[] = [];
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-')) {
    const a = args[i]!;
    const name = a.split('=')[0]!;
    if (GLOBAL_FLAGS.has(a) || (GLOBAL_VALUES.has(name) && a.includes('='))) {
      moved.push(a);
      i += 1;
    } else if (GLOBAL_VALUES.has(a) && i + 1 < args.length) {
      moved.push(a, args[i + 1]!);
      i += 2;
    } else {
      return args;
    }
  }
  if (moved.length === 0 || i >= args.length) return args;
  return [args[i]!, ...moved, ...args.slice(i + 1)];
}

/**
 * `add --name -weird SCHEDULE COMMAND`: a name that starts with `-` would read as an option, so
 * `--name NAME` gives it instead of the first positional. Commander cannot make a positional
 * optional only when an option is present: the name is taken out here and a placeholder holds its
 * place (`add` reads the real name from the context).
 */
function takeAddName(args: string[]): { args: string[]; name?: string } {
  if (args[0] !== 'add') return { args };
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--name' && i + 1 < args.length) {
      return { args: ['add', ADD_NAME_PLACEHOLDER, ...args.slice(1, i), ...args.slice(i + 2)], name: args[i + 1]! };
    }
    if (a.startsWith('--name=')) {
      return { args: ['add', ADD_NAME_PLACEHOLDER, ...args.slice(1, i), ...args.slice(i + 1)], name: a.slice('--name='.length) };
    }
  }
  return { args };
}

/** A failure as the ONE wire form of errors (errors.ts), with the exit code it maps to. */
export function describeFailure(err: unknown): { code: number; error: SerializedError } {
  if (err instanceof CommanderError) {
    // Commander puts its "(Did you mean --timeout?)" on a second line: keep it, on the same line.
    const message = err.message.replace(/^error:\s*/, '').replace(/\s*\n\s*/g, ' ').trim();
    return { code: EXIT.USAGE, error: { name: 'UsageError', code: 'VALIDATION', message } };
  }
  const error = serializeError(err);
  return { code: error.code === 'VALIDATION' ? EXIT.USAGE : EXIT.FAILED, error };
}

/**
 * `rae-sched list | head -1`: once the reader closes the pipe, a write fails with EPIPE, which Node
 * raises as an unhandled 'error' event (a stack trace). Like `git log | head`, we stop quietly: the
 * output nobody reads is dropped and the exit code is 0 — the command did not fail, its reader left.
 * (A run in progress in the foreground is not at stake: commands print only after they are done,
 * except `events`, which has nothing left to do once nobody reads.)
 */
function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount('error') > 0) continue;
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') process.exit(EXIT.OK);
      throw err;
    });
  }
}

/**
 * Runs `rae-sched` with `argv` (without the node and script paths). Resolves with the exit code;
 * never rejects.
 * @example
 * process.exitCode = await main(['list', '--json'])
 */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  if (io === processIo) exitQuietlyOnClosedPipe();
  const ctx = new CliContext(io);
  const debug = argv.includes('--debug');
  const split = splitArgvCommand(argv);
  const argvCommand = split.argvCommand;
  const named = takeAddName(hoistGlobalOptions(split.args));
  const args = named.args;
  if (named.name !== undefined) ctx.addName = named.name;
  if (args.length === 0) {
    io.stderr('rae-sched: error: missing command (see `rae-sched --help`)\n');
    return EXIT.USAGE;
  }
  if (argvCommand !== undefined && args[0] !== 'add') {
    io.stderr("rae-sched: error: '--' is only used by `add NAME SCHEDULE -- PROG ARG...`\n");
    return EXIT.USAGE;
  }
  try {
    await buildProgram(ctx, argvCommand).parseAsync(args, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError && QUIET_EXITS.has(err.code)) return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    const { code, error } = describeFailure(err);
    const line = error.message.split('\n')[0]!;
    io.stderr(`rae-sched: error: ${line}\n`);
    // With --json a UI reads the error from stdout too, as one JSON document.
    if (args.includes('--json')) {
      io.stdout(JSON.stringify({ error: { code: error.code, message: line, field: error.field ?? null } }) + '\n');
    }
    if (debug && err instanceof Error && err.stack) io.stderr(err.stack + '\n');
    return code;
  }
}
