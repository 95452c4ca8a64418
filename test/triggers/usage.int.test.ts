import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { SystemSignals } from '../../src/actors/triggers/usage';

describe('SystemSignals on the real machine (/proc, statfs, os)', () => {
  test('cpu, memory, load, swap, disk(/): values in range', async () => {
    const src = new SystemSignals();
    // Burn a little CPU so the cumulative counters move between construction and the read.
    const until = Date.now() + 50;
    while (Date.now() < until) { /* busy */ }
    const s = await src.read(['cpu', 'memory', 'load', 'swap', 'disk:/']);
    expect(s.get('cpu')!.percent).toBeGreaterThanOrEqual(0);
    expect(s.get('cpu')!.percent).toBeLessThanOrEqual(100);
    const mem = s.get('memory')!;
    expect(mem.usedPercent).toBeGreaterThan(0);
    expect(mem.usedPercent + mem.freePercent).toBeLessThanOrEqual(100.0001);
    expect(mem.freeBytes).toBeGreaterThan(0);
    expect(s.get('load')!.load1).toBeGreaterThanOrEqual(0);
    expect(s.get('swap')!.usedPercent).toBeGreaterThanOrEqual(0);
    const disk = s.get('disk:/')!;
    expect(disk.freeBytes).toBeGreaterThan(0);
    expect(disk.freePercent).toBeGreaterThan(0);
    expect(disk.freePercent).toBeLessThanOrEqual(100);
  });

  test('process by name and by pid file: a real child is running, then not', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rae-proc-'));
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise<void>((resolve, reject) => { child.once('spawn', resolve); child.once('error', reject); });
      const pidfile = path.join(dir, 'sleep.pid');
      writeFileSync(pidfile, `${child.pid!}\n`);
      expect(readFileSync(`/proc/${child.pid!}/comm`, 'utf8').trim()).toBe('sleep');
      const src = new SystemSignals();
      const keys = ['process:sleep', `process:pidfile:${pidfile}`];
      const s = await src.read(keys);
      expect(s.get('process:sleep')).toMatchObject({ running: 1 });
      expect(s.get(`process:pidfile:${pidfile}`)).toMatchObject({ running: 1 });
      expect(s.get(`process:pidfile:${pidfile}`)!.memoryBytes).toBeGreaterThan(0);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      const after = await src.read([`process:pidfile:${pidfile}`, `process:pidfile:${dir}/missing.pid`]);
      expect(after.get(`process:pidfile:${pidfile}`)).toMatchObject({ running: 0 });
      expect(after.get(`process:pidfile:${dir}/missing.pid`)).toMatchObject({ running: 0 });
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('what this machine lacks is refused with the reason, what it has is not', () => {
    const src = new SystemSignals();
    expect(src.unavailable('disk:/')).toBeNull();
    expect(src.unavailable('swap')).toBeNull();
    expect(src.unavailable('process:sleep')).toBeNull();
    // What this machine has is what it is: the answers must agree with the files.
    const supplies = existsSync('/sys/class/power_supply') ? readdirSync('/sys/class/power_supply') : [];
    const hasBattery = supplies.some((n) => existsSync(`/sys/class/power_supply/${n}/capacity`));
    if (hasBattery) expect(src.unavailable('battery')).toBeNull();
    else expect(src.unavailable('battery')).toMatch(/^(no battery under \/sys\/class\/power_supply|battery is read from)/);
    const irqs = readFileSync('/proc/interrupts', 'utf8');
    const hasInput = /i8042|keyboard|mouse|touchpad|trackpad|trackpoint/i.test(irqs) ||
      (existsSync('/dev/input') && readdirSync('/dev/input').some((n) => n.startsWith('event')));
    if (hasInput) expect(src.unavailable('input')).toBeNull();
    else expect(src.unavailable('input')).toMatch(/^user input cannot be told/);
  });
});
