import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SystemSignals } from '../../src/actors/triggers/usage';

/** A fake /proc, /sys and /dev tree: the reader's paths point into it. */
function fakeRoot(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'rae-signals-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    writeFileSync(path.join(root, p), text);
  }
  return root;
}

describe('SystemSignals on a fake /sys and /proc', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
  const make = (files: Record<string, string>): SystemSignals => {
    const root = fakeRoot(files);
    roots.push(root);
    return new SystemSignals({ root });
  };

  test('battery and AC from /sys/class/power_supply', async () => {
    const s = make({
      'sys/class/power_supply/BAT0/type': 'Battery\n', 'sys/class/power_supply/BAT0/capacity': '42\n',
      'sys/class/power_supply/BAT0/status': 'Discharging\n',
      'sys/class/power_supply/AC/type': 'Mains\n', 'sys/class/power_supply/AC/online': '0\n',
    });
    expect(s.unavailable('battery')).toBeNull();
    expect(s.unavailable('power')).toBeNull();
    const r = await s.read(['battery', 'power']);
    expect(r.get('battery')).toEqual({ battery: 42 });
    expect(r.get('power')).toEqual({ ac: 0 });
  });

  test('no battery: refused naming what the directory holds; no directory: names the platform gap', () => {
    const s = make({ 'sys/class/power_supply/AC/type': 'Mains\n', 'sys/class/power_supply/AC/online': '1\n' });
    expect(s.unavailable('battery')).toBe('no battery under /sys/class/power_supply (it has AC (Mains))');
    expect(s.unavailable('power')).toBeNull();
    const none = make({ 'proc/meminfo': 'MemTotal: 1 kB\n' });
    expect(none.unavailable('battery')).toMatch(/^battery is read from \/sys\/class\/power_supply, which this platform does not have/);
    expect(none.unavailable('power')).toMatch(/^AC power is read from/);
    const empty = make({ 'sys/class/power_supply/.keep': '' });
    expect(empty.unavailable('battery')).toBe('no battery under /sys/class/power_supply (it has .keep (Unknown))');
  });

  test('idle: no change of the input interrupt counters since the previous read', async () => {
    const irq = (n: number) => `           CPU0       CPU1\n  1:   ${n}   0   IO-APIC   1-edge      i8042\n 28:  900 5 PCI-MSI virtio0\n`;
    const root = fakeRoot({ 'proc/interrupts': irq(10) });
    roots.push(root);
    const s = new SystemSignals({ root });
    expect(s.unavailable('input')).toBeNull();
    expect((await s.read(['input'])).get('input')).toEqual({ idle: 0 }); // first read: no baseline
    expect((await s.read(['input'])).get('input')).toEqual({ idle: 1 });
    writeFileSync(path.join(root, 'proc/interrupts'), irq(11)); // a key press
    expect((await s.read(['input'])).get('input')).toEqual({ idle: 0 });
    expect((await s.read(['input'])).get('input')).toEqual({ idle: 1 });
  });

  test('idle refused where no input source exists', () => {
    const s = make({ 'proc/interrupts': '  28:  900 5 PCI-MSI virtio0\n' });
    expect(s.unavailable('input')).toMatch(/^user input cannot be told: no keyboard or mouse lines in \/proc\/interrupts and no \/dev\/input/);
  });

  test('swap from /proc/meminfo; none configured reads as none used', async () => {
    const s = make({ 'proc/meminfo': 'MemTotal: 1000 kB\nSwapTotal:  2048 kB\nSwapFree:   1536 kB\n' });
    expect((await s.read(['swap'])).get('swap')).toEqual({ usedBytes: 512 * 1024, usedPercent: 25 });
    const none = make({ 'proc/meminfo': 'SwapTotal:  0 kB\nSwapFree:   0 kB\n' });
    expect((await none.read(['swap'])).get('swap')).toEqual({ usedBytes: 0, usedPercent: 0 });
    expect(make({ 'sys/x': '' }).unavailable('swap')).toMatch(/^swap is read from \/proc\/meminfo, which this platform does not have/);
  });

  test('process by name on a fake /proc: matches comm or argv[0], sums the matches; absent → not running', async () => {
    // Real pids (ours and our parent) so pidusage can read them; the fake /proc only says their names.
    const s = make({
      [`proc/${process.ppid}/comm`]: 'myworker\n', [`proc/${process.ppid}/cmdline`]: 'x\0',
    });
    expect(s.unavailable('process:myworker')).toBeNull();
    const r = await s.read(['process:myworker', 'process:nosuch']);
    expect(r.get('process:myworker')).toMatchObject({ running: 1 });
    expect(r.get('process:myworker')!.memoryBytes).toBeGreaterThan(0);
    expect(r.get('process:nosuch')).toEqual({ running: 0, cpu: 0, memoryBytes: 0, memoryPercent: 0 });
  });

  test('an unknown disk is refused at add with the errno', () => {
    expect(new SystemSignals().unavailable('disk:/no/such/dir')).toBe('disk(/no/such/dir): cannot read its file system (ENOENT)');
  });
});
