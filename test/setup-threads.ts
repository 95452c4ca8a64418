/**
 * Jest setup of the `threads` project: every scheduler a test creates places its queue, executor,
 * monitor and triggers actors in worker threads (src/scheduler.ts, RAE_SCHED_PLACEMENT).
 */
process.env.RAE_SCHED_PLACEMENT = 'threads';
