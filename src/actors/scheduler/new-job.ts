/**
 * Everything `addJob` checks before a job is stored, in one place for both writers: the scheduler
 * actor (daemon, library) and the CLI's direct store access when no daemon runs. Only how the
 * schedule is parsed and how other jobs are looked up differ between them, so those come in.
 */
import { ConflictError, ValidationError } from '../../errors';
import type { Job, TriggerSpec } from '../../model/job';
import { newId } from '../../model/ids';
import type { Schedule } from '../parser/schedule';
import { parseCondition } from '../triggers/condition';
import { checkPaths, fillJobSpec } from './job-spec';
import { iso } from './runs';

/** How the caller sees the other jobs and parses schedules. */
export interface NewJobContext {
  now: number;
  /** Id of the job with this id or name, if it exists. */
  idOf(ref: string): string | undefined;
  /** Whether a job has this name. */
  hasName(name: string): boolean;
  /** The stored job with this id. */
  jobOf(id: string): Promise<Job | undefined>;
  /** Validates schedule text and zone (the parser thread, or its pure functions in-process). */
  parse(text: string, tz: string | null, now: number): Promise<Schedule>;
  /**
   * Refuses a `--when` condition this machine cannot sample. The CLI's offline `add` passes it; a
   * running scheduler leaves it out, because its trigger hub checks the condition as it sets it up.
   */
  checkCondition?(text: string): Promise<void>;
}

/**
 * Validates a JobSpec and builds the Job to store (not stored yet).
 * @throws ValidationError naming the field; ConflictError when the name is taken.
 */
export async function prepareNewJob(input: unknown, c: NewJobContext): Promise<{ job: Job; schedule: Schedule }> {
  const spec = fillJobSpec(input);
  for (const t of spec.triggers) {
    if (t.type !== 'when') continue;
    parseCondition(t.condition);
    await c.checkCondition?.(t.condition);
  }
  for (const t of spec.triggers) {
    if (t.type === 'after' && c.idOf(t.job) === undefined) {
      throw new ValidationError(`triggers: --after names job '${t.job}', which does not exist`, 'after');
    }
  }
  await refuseCycle(spec.name, spec.triggers, c);
  if (c.hasName(spec.name)) throw new ConflictError(`name: a job named '${spec.name}' already exists`);
  const schedule = await c.parse(spec.schedule, spec.timezone, c.now);
  if (schedule.kind === 'once' && schedule.at <= c.now) {
    throw new ValidationError(`schedule: '${spec.schedule}' is in the past (${iso(schedule.at)})`, 'schedule');
  }
  checkPaths(spec);
  const job: Job = {
    id: newId('job', c.now),
    ...spec,
    schedule: schedule.canonical,
    // The words typed (`tomorrow at 9am`) are kept beside the instant they resolved to.
    scheduleText: schedule.canonical !== spec.schedule ? spec.schedule : null,
    createdAt: iso(c.now),
    updatedAt: iso(c.now),
    completedAt: null,
    nextRunAt: null,
    lastRun: null,
    state: 'scheduled',
  };
  return { job, schedule };
}

/**
 * `--after` edges must not form a cycle (A after B after A would run forever). Follows the new
 * job's upstream jobs' own `--after` triggers; reaching the new job's name is a cycle.
 */
async function refuseCycle(name: string, triggers: TriggerSpec[], c: NewJobContext): Promise<void> {
  const seen = new Set<string>();
  const stack = triggers.flatMap((t) => (t.type === 'after' ? [t.job] : []));
  while (stack.length > 0) {
    const ref = stack.pop()!;
    if (ref === name) throw new ValidationError(`triggers: --after would make a cycle through '${name}'`, 'after');
    const id = c.idOf(ref);
    if (id === undefined || seen.has(id)) continue;
    seen.add(id);
    const up = await c.jobOf(id);
    if (up === undefined) continue;
    if (up.name === name) throw new ValidationError(`triggers: --after would make a cycle through '${name}'`, 'after');
    for (const t of up.triggers) if (t.type === 'after') stack.push(t.job);
  }
}
