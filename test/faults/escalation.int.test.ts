/**
 * Fault suite: a daemon that truly cannot go on exits non-zero (issue 8 "escalation", issue 9
 * item 5). The real `bin/rae-sched daemon` runs with `RAE_SCHED_INJECT_CRASH=queue.armMany`: every
 * timeline change makes the queue actor throw a plain Error (a bug), so it crashes, is restarted,
 * is re-armed by the scheduler — and crashes again. Past the root's restart intensity (5 in 10 s)
 * the supervisor stops every actor in reverse start order and the daemon exits 1, saying why in
 * its log, with its socket and pid file removed and its lock released. The job it acknowledged
 * before is still there when a healthy daemon starts on the same directory.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { rae, startDaemon } from '../cli/harness';
import { useDaemonDir } from './helpers';

jest.setTimeout(180_000);

const fx = useDaemonDir('rae-flt-esc-');
const cli = (...args: string[]) => rae([...args, '--data-dir', fx.dir()], { timeoutMs: 120_000 });

describe('restart intensity exceeded', () => {
  it('stops every actor in reverse order and exits the daemon non-zero, cleaned up', async () => {
    const d = fx.track(await startDaemon(fx.dir(), [], undefined, { RAE_SCHED_INJECT_CRASH: 'queue.armMany' }));
    // Adding a job arms it: the queue's first crash, and every re-arm after a restart crashes it again.
    // Acknowledged: the reply goes out once the job is durable, before its arm reaches the queue
    // (the scheduler tells the queue after the commit), and the escalation behind it takes several
    // restarts. A test that only checked the job "if it was acknowledged" could pass with nothing checked.
    const added = await cli('add', 'tick', 'every 1m', 'true');
    expect(added.code).toBe(0);
    const code = await d.exited;
    expect(code).toBe(1);
    const log = d.output();
    expect(log).toMatch(/injected crash \(RAE_SCHED_INJECT_CRASH=queue\.armMany\): queue\.armMany/);
    expect(log).toMatch(/the scheduler failed and cannot go on/);
    expect(log).toMatch(/actor system failed: root supervisor gave up/);
    // Reverse start order.
    const stops = [...log.matchAll(/"actor":"(\w+)","why":"(\w+)".*actor stopped/g)].map((m) => m[1]);
    expect(stops).toEqual(['executor', 'queue', 'scheduler', 'triggers', 'parser', 'persistence', 'monitor']);
    expect(existsSync(join(fx.dir(), 'rae-sched.sock'))).toBe(false);
    expect(existsSync(join(fx.dir(), 'rae-sched.pid'))).toBe(false);

    // The lock is free: a healthy daemon starts on the same directory, and what was acknowledged is there.
    const healthy = fx.track(await startDaemon(fx.dir()));
    const list = await cli('list', '--json');
    expect(list.stdout).toContain('"tick"');
    expect(await healthy.stop()).toBe(0);
  });
});
