/**
 * The cache key of a parsed schedule, in a module of its own: readers that only key their cache
 * (read-view.ts) must not load schedule.ts, which loads the cron library and its time-zone data
 * (~16 ms of CPU for a short CLI process that parses nothing).
 */

/** The key a parsed schedule is cached under: the same text in the same zone parses the same. */
export function scheduleKey(job: { schedule: string; timezone: string | null }): string {
  return `${job.timezone ?? ''}\0${job.schedule}`;
}
