/** Fault injection and counters a scheduler gives tests and benches (`testHooksOf`). */
import type { Scheduler } from './api';
import type { ExecutorFault } from './actors/executor/actor';
import type { InjectedFault } from './actors/persistence/port';
import type { InjectedFailure } from './runtime/crash-injection';
import type { TreeNode } from './runtime/system';

/** What `testHooks()` of a scheduler gives tests. @internal */
export interface SchedulerTestHooks {
  storeFault(fault: InjectedFault): Promise<void>;
  /** Crashes an actor's current incarnation now (ActorSystem.fault): the chaos driver's tool. */
  fault(actor: string): Promise<boolean>;
  /**
   * The next `times` messages `type` of `actor` throw a plain Error (a bug), or hang / are delayed
   * (`how`), wherever the actor runs and across its restarts (ActorSystem.inject).
   */
  throwIn(actor: 'queue' | 'executor' | 'scheduler' | 'monitor' | 'triggers' | 'persistence' | 'parser', type: string, times?: number, how?: InjectedFailure): void;
  /** Every actor of the tree (running, restarts), in start order. */
  children(): Array<{ id: string; running: boolean; restarts: number }>;
  /** The supervision tree (groups and actors). */
  tree(): TreeNode;
  executorFault(fault: ExecutorFault): Promise<void>;
  commitStats(): Promise<{ commits: number; failures: number; records: number; largest: number }>;
}

/** The test hooks of a scheduler made by {@link createScheduler}. @internal */
export function testHooksOf(s: Scheduler): SchedulerTestHooks {
  return (s as unknown as { testHooks(): SchedulerTestHooks }).testHooks();
}
