/**
 * Test helpers for users of the library (`rae-scheduler/testing`): the virtual clock, so a job's
 * schedule can be exercised without waiting for real time, and a probe that crashes the scheduler's
 * worker-thread actors, so recovery can be tested (and timed: bench W6).
 * @example
 * import { VirtualClock } from 'rae-scheduler/testing';
 * const clock = new VirtualClock(Date.parse('2027-03-01T08:59:00Z'));
 * const s = await createScheduler({ dataDir, clock });
 * await clock.advance(60_000);
 */
export { VirtualClock, settle } from './runtime/clock';
export { threadActorProbe, type ThreadActorProbe } from './runtime/thread-probe';
