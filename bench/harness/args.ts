/** Command line of `npm run bench` (after `--`), parsed once into a filled value. */

/** Parsed options. */
export interface BenchArgs {
  /** Smaller sizes and 2 repetitions: the whole run in under 2 minutes. */
  quick: boolean;
  /** Workload ids to run (upper case, in the harness's order), or null for all. */
  only: string[] | null;
  /** Print the results as one JSON document on stdout instead of the table. */
  json: boolean;
  /** Override the repetitions of every workload. @default 5 full, 2 quick (W3/W4: see bench/README.md) */
  reps: number | null;
  help: boolean;
}

/** A command line the harness cannot run: one line saying what is wrong. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The usage text (`--help`). */
export function usage(workloads: readonly string[]): string {
  return [
    'usage: npm run bench -- [--quick] [--only W1,W3] [--json] [--reps N]',
    '',
    '  --quick        smaller sizes, 2 repetitions (under 2 minutes)',
    `  --only IDS     run only these workloads (${workloads.join(', ')})`,
    '  --json         print the results as one JSON document on stdout',
    '  --reps N       repetitions per measurement (default 5, quick 2)',
    '',
    'Writes bench/results/latest.json and latest.md; a full run of every workload also writes chart.svg.',
  ].join('\n');
}

/**
 * Parses `argv` (without node and script). `--only` takes a comma-separated list (`--only W1,w3` or
 * `--only=W1`), checked against `workloads`.
 * @throws UsageError for an unknown option, a missing value or an unknown workload.
 */
export function parseArgs(argv: readonly string[], workloads: readonly string[]): BenchArgs {
  const out: BenchArgs = { quick: false, only: null, json: false, reps: null, help: false };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.indexOf('=');
    const name = raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw;
    const inline = raw.startsWith('--') && eq > 0 ? raw.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '' || (inline === undefined && v.startsWith('--'))) throw new UsageError(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case '--quick': out.quick = true; break;
      case '--json': out.json = true; break;
      case '-h':
      case '--help': out.help = true; break;
      case '--only': {
        const ids = value().split(',').map((s) => s.trim().toUpperCase()).filter((s) => s !== '');
        const unknown = ids.filter((id) => !workloads.includes(id));
        if (unknown.length > 0) throw new UsageError(`--only: unknown workload ${unknown.join(', ')} (known: ${workloads.join(', ')})`);
        if (ids.length === 0) throw new UsageError('--only needs at least one workload');
        out.only = workloads.filter((w) => ids.includes(w));
        break;
      }
      case '--reps': {
        const v = value();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 50) throw new UsageError(`--reps: expected an integer from 1 to 50, got '${v}'`);
        out.reps = n;
        break;
      }
      default:
        throw new UsageError(`unknown option '${raw}'`);
    }
  }
  return out;
}
