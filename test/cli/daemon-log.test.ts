/** The daemon's log file destination: a write that fails (ENOSPC on /dev/full) never throws. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ResilientFileDestination } from '../../src/cli/daemon-log';

const maybe = existsSync('/dev/full') ? it : it.skip;

describe('ResilientFileDestination', () => {
  maybe('on a full device: does not throw, notes the failure once, copies lines to stderr when stderr has none', () => {
    // In a child process, so its stderr can be read whole.
    const code = `
      const { ResilientFileDestination } = require(${JSON.stringify(require.resolve('../../src/cli/daemon-log'))});
      const d = new ResilientFileDestination('/dev/full', false);
      d.write('{"msg":"one"}\\n'); d.write('{"msg":"two"}\\n');
      process.stdout.write(String(d.failing));`;
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('ENOSPC');
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^rae-sched: warning: cannot write the log file \/dev\/full \(ENOSPC\)/);
    expect(lines.slice(1)).toEqual(['{"msg":"one"}', '{"msg":"two"}']);
  });

  it('writes to a normal file and reports no failure', () => {
    const d = new ResilientFileDestination('/dev/null', true);
    expect(d.write('x\n')).toBe(true);
    expect(d.failing).toBeNull();
  });
});
