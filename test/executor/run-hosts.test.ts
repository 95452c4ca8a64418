/**
 * How many run host processes the executor's pool may start by default (docs/jobs.md "How it
 * runs"): one per core, at most 4; `RAE_SCHED_RUN_HOSTS` sets it, and a bad value is one clear
 * VALIDATION error naming the variable.
 */
import os from 'node:os';
import { ExecutorPool, RUN_HOSTS_ENV } from '../../src/actors/executor/pool';

describe('ExecutorPool.defaultHosts', () => {
  it('is one per core, at most 4', () => {
    expect(ExecutorPool.defaultHosts({})).toBe(Math.min(4, os.availableParallelism()));
  });

  it('takes RAE_SCHED_RUN_HOSTS', () => {
    expect(ExecutorPool.defaultHosts({ [RUN_HOSTS_ENV]: '1' })).toBe(1);
    expect(ExecutorPool.defaultHosts({ [RUN_HOSTS_ENV]: '6' })).toBe(6);
  });

  it.each(['0', '-1', '1.5', 'two'])('refuses RAE_SCHED_RUN_HOSTS=%s with one clear error', (v) => {
    expect(() => ExecutorPool.defaultHosts({ [RUN_HOSTS_ENV]: v })).toThrow(
      expect.objectContaining({ code: 'VALIDATION', message: `RAE_SCHED_RUN_HOSTS must be an integer >= 1, got '${v}'` }),
    );
  });
});
