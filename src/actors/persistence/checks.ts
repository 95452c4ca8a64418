/**
 * The store's input checks, with zod and the schemas loaded on first use: a process that only reads
 * (`rae-sched list` without a daemon) never loads them, which saves it 60–250 ms of start-up here.
 * @internal
 */
import type * as Schemas from './schema';
import type * as Backup from './backup';
import type { Job } from '../../model/job';
import type { Run, Slot } from '../../model/run';
import type { ScheduleState } from './schema';
import { parseOrThrow } from '../../model/zod-error';

let schemas: typeof Schemas | undefined;
let backup: typeof Backup | undefined;

/* eslint-disable @typescript-eslint/no-require-imports -- loaded on demand, see above */
const s = (): typeof Schemas => (schemas ??= require('./schema') as typeof Schemas);
/** The backup module (it validates with the same schemas). */
export const backupModule = (): typeof Backup => (backup ??= require('./backup') as typeof Backup);
/* eslint-enable @typescript-eslint/no-require-imports */

/** Parses a stored shape or throws a ValidationError naming `path`. */
export const check = {
  job: (v: unknown, path: string): Job => parseOrThrow(s().jobSchema, v, path),
  run: (v: unknown, path: string): Run => parseOrThrow(s().runSchema, v, path),
  slot: (v: unknown, path: string): Slot => parseOrThrow(s().slotSchema, v, path),
  scheduleState: (v: unknown, path: string): ScheduleState => parseOrThrow(s().scheduleStateSchema, v, path),
};
