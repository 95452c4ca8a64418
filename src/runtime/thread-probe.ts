/**
 * Crash injection for the scheduler's worker-thread actors (persistence, parser), exported from
 * `rae-scheduler/testing`. It listens on the diagnostics channel each thread incarnation announces
 * itself on, so it reaches the workers of every scheduler in this process that started after it.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { NotFoundError } from '../errors';
import { THREAD_STARTED_CHANNEL, type ThreadStarted } from './thread-host';

/** Handle returned by {@link threadActorProbe}. */
export interface ThreadActorProbe {
  /**
   * Terminates the current worker thread of actor `name` from outside, as a crash would: its
   * in-flight calls fail with ACTOR_DEAD and its supervisor starts a new incarnation.
   * @throws NotFoundError when no worker of that actor started since the probe was created.
   */
  crash(name: string): Promise<void>;
  /** Incarnations of `name` seen so far (the first start counts; each restart adds one). */
  started(name: string): number;
  /** Stops listening. */
  close(): void;
}

/**
 * Starts listening for thread actors. Create it BEFORE `createScheduler`: it only sees workers
 * started after it.
 * @example
 * const probe = threadActorProbe();
 * const s = await createScheduler({ dataDir });
 * await probe.crash('persistence');   // the next addJob is served by a restarted persistence thread
 * probe.close();
 */
export function threadActorProbe(): ThreadActorProbe {
  const latest = new Map<string, ThreadStarted>();
  const counts = new Map<string, number>();
  const onStarted = (msg: unknown): void => {
    const m = msg as ThreadStarted;
    latest.set(m.name, m);
    counts.set(m.name, (counts.get(m.name) ?? 0) + 1);
  };
  diagnostics_channel.subscribe(THREAD_STARTED_CHANNEL, onStarted);
  return {
    crash: async (name) => {
      const m = latest.get(name);
      if (m === undefined) throw new NotFoundError(`no worker thread of actor '${name}' started since the probe was created`);
      await m.terminate();
    },
    started: (name) => counts.get(name) ?? 0,
    close: () => { diagnostics_channel.unsubscribe(THREAD_STARTED_CHANNEL, onStarted); },
  };
}
