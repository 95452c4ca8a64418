/** Offline `add` (no daemon, so no trigger hub) refuses a `--when` signal this machine cannot give, as a daemon does. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expectUsageError, rae } from '../cli/harness';
import { removeDir, tempDir } from '../helpers/scheduler';

jest.setTimeout(60_000);

const hasBattery = (): boolean =>
  existsSync('/sys/class/power_supply') && readdirSync('/sys/class/power_supply').some((d) => existsSync(join('/sys/class/power_supply', d, 'capacity')));

it('refuses a condition on a missing signal and stores nothing; accepts one it can sample', async () => {
  const dir = tempDir('rae-offline-when-');
  try {
    const data = join(dir, 'data');
    // A readable disk is always there; an unreadable path never is.
    const bad = await rae(['add', 'usb', 'never', 'true', '--when', 'disk(/no/such/mount) free < 1GB', '--data-dir', data]);
    expectUsageError(bad, "when: 'disk(/no/such/mount) free < 1GB' is not available here");
    if (!hasBattery()) {
      expectUsageError(await rae(['add', 'low', 'never', 'true', '--when', 'battery < 20%', '--data-dir', data]), 'is not available here');
    }
    const ok = await rae(['add', 'full', 'never', 'true', '--when', 'disk(/) free < 1GB', '--data-dir', data]);
    expect(ok.code).toBe(0);
    const list = await rae(['list', '--json', '--data-dir', data]);
    expect((JSON.parse(list.stdout) as Array<{ name: string }>).map((j) => j.name)).toEqual(['full']);
  } finally {
    removeDir(dir);
  }
});
