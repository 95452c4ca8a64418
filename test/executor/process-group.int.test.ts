/**
 * The /proc process-group helpers on real processes: membership (zombies excluded), the
 * `kill(-pgid, 0)` fast path of `groupAlive`, and `terminateGroup` reaching grandchildren.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { groupAlive, groupMembers, terminateGroup } from '../../src/workers/run/process-group';
import { isRunning } from './helpers';

/** Spawns a detached (own group) shell that prints `$$`-style pids one per line, then waits for them. */
function leader(script: string): { child: ChildProcess; pids: Promise<number[]> } {
  const child = spawn('/bin/sh', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  const pids = new Promise<number[]>((resolve) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      // The script ends its report with a line "ready".
      if (out.includes('ready\n')) resolve(out.split('\n').filter((l) => /^\d+$/.test(l)).map(Number));
    });
  });
  return { child, pids };
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

describe('process group helpers', () => {
  it('lists the live members of a group, grandchildren included, and not its zombies', async () => {
    // `true &` exits at once, and `exec sleep` never reaps it: a zombie in the group. `sleep 100 &`
    // is a live grandchild-style member; the leader itself execs into sleep.
    const { child, pids } = leader('true & z=$!; sleep 100 & echo $!; echo $z; echo $$; echo ready; exec sleep 100');
    const [sleeper, zombie, lead] = await pids;
    try {
      await new Promise<void>((resolve) => {
        // Wait (on /proc, not a timer guess) until the `true` has become a zombie.
        const poll = () => (isRunning(zombie!) ? setTimeout(poll, 10) : resolve());
        poll();
      });
      const members = groupMembers(child.pid!);
      expect(members).not.toBeNull();
      expect(new Set(members)).toEqual(new Set([lead, sleeper]));
      expect(groupAlive(child.pid!)).toBe(true);
    } finally {
      await terminateGroup(child.pid!, 2000);
    }
    await exited(child);
    expect(isRunning(sleeper!)).toBe(false);
    expect(groupMembers(child.pid!)).toEqual([]);
    expect(groupAlive(child.pid!)).toBe(false);
  });

  it('reports an empty group as not alive once its only process exited', async () => {
    const child = spawn('true', [], { detached: true, stdio: 'ignore' });
    await exited(child);
    expect(groupAlive(child.pid!)).toBe(false);
  });
});
