/** `next SCHEDULE`: validates a schedule and prints its next fire times. Pure: no store, no daemon. */
import type { Command } from 'commander';
import { ValidationError } from '../../errors';
import { parsePositiveInt } from '../job-spec';
import { type CliContext, type CommonOptions, withCommonOptions } from '../context';
import { formatNext } from '../format';
import { loadLuxon } from '../lazy';

/** @throws ValidationError naming `--tz` when `zone` is not an IANA zone. */
export function checkZone(zone: string): void {
  if (!loadLuxon().IANAZone.isValidZone(zone)) {
    throw new ValidationError(`--tz: '${zone}' is not an IANA time zone (e.g. Europe/Paris, America/New_York, UTC)`, '--tz');
  }
}

/** Registers `next`. */
export function registerNextCommand(program: Command, ctx: CliContext): void {
  withCommonOptions(program.command('next')
    .description('validate a schedule and print its next fire times (--json: {"next": [ISO UTC]})')
    .argument('<schedule>', 'the schedule text')
    .option('--tz <zone>', 'IANA time zone (default: local)')
    .option('--from <iso>', 'compute from this instant (default: now)')
    .option('--count <n>', 'how many fire times (default 5)'))
    .action(async (schedule: string, opts: CommonOptions & { tz?: string; from?: string; count?: string }) => {
      if (opts.tz !== undefined) checkZone(opts.tz);
      const count = opts.count === undefined ? 5 : parsePositiveInt(opts.count, '--count');
      let from: Date | undefined;
      if (opts.from !== undefined) {
        from = new Date(opts.from);
        if (Number.isNaN(from.getTime())) {
          throw new ValidationError(`--from: '${opts.from}' is not an ISO-8601 time (e.g. 2027-01-01T09:00:00Z)`, '--from');
        }
      }
      // Loaded on demand: the parser is another area's module and `--help` should not pay for it.
      const { nextRuns } = await import('../../actors/parser');
      const dates = nextRuns(schedule, { ...(opts.tz !== undefined ? { tz: opts.tz } : {}), ...(from ? { from } : {}), count });
      ctx.print(opts, { next: dates.map((d) => d.toISOString()) }, () =>
        dates.length === 0 ? 'no fire times (the schedule fires only by trigger or `run`, or lies in the past)' : formatNext(dates, opts.tz));
    });
}
