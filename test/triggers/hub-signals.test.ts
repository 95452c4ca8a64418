import { VirtualClock } from '../../src/runtime/clock';
import { TriggerHub } from '../../src/actors/triggers/hub';
import { periodFor } from '../../src/actors/triggers/sampler';
import { FakeSignals } from './fake-signals';

const S = 1000;
const MIN = 60 * S;
const GB = 1024 ** 3;

function setup() {
  const clock = new VirtualClock();
  const signals = new FakeSignals();
  const fires: Array<{ jobId: string; reason: string; at: number }> = [];
  const hub = new TriggerHub({ clock, signals, onFire: (jobId, reason) => fires.push({ jobId, reason, at: clock.monotonic() }) });
  return { clock, signals, fires, hub };
}

describe('the shared sampler', () => {
  test('periodFor: the shortest window / 10, within 1 s .. 5 s; no window → 5 s', () => {
    expect(periodFor([])).toBe(5 * S);
    expect(periodFor([0, 0])).toBe(5 * S);
    expect(periodFor([10 * MIN])).toBe(5 * S);
    expect(periodFor([10 * MIN, 30 * S])).toBe(3 * S);
    expect(periodFor([5 * S])).toBe(1 * S);
    expect(periodFor([20 * S], { minMs: 100, maxMs: 60 * S })).toBe(2 * S);
  });

  test('adapts to the shortest window of the registered conditions, and back', async () => {
    const { clock, signals, hub } = setup();
    await hub.set('slow', [{ type: 'when', condition: 'cpu idle for 10m' }]);
    expect(hub.sampling().periodMs).toBe(5 * S);
    await clock.advance(2 * S);
    // A 20 s window: every 2 s from now on. The pending 5 s tick moves earlier.
    await hub.set('fast', [{ type: 'when', condition: 'memory > 90% for 20s' }]);
    expect(hub.sampling().periodMs).toBe(2 * S);
    await clock.advance(10 * S);
    expect(signals.samples).toBe(5); // at 4, 6, 8, 10, 12 s
    await hub.remove('fast');
    expect(hub.sampling().periodMs).toBe(5 * S);
    const before = signals.samples;
    await clock.advance(20 * S);
    expect(signals.samples - before).toBe(4);
  });

  test('reads each distinct signal once per tick, however many conditions use it', async () => {
    const { clock, signals, hub } = setup();
    signals.readings.set('disk:/', { freeBytes: 10 * GB, freePercent: 50 });
    for (let i = 0; i < 200; i++) {
      await hub.set(`j${i}`, [
        { type: 'when', condition: `disk(/) free < ${i + 1}GB` },
        { type: 'when', condition: `cpu > ${i % 100}% and memory < 99%` },
      ]);
    }
    expect(hub.counts().conditions).toBe(400);
    expect([...hub.sampling().signals].sort()).toEqual(['cpu', 'disk:/', 'memory']);
    await clock.advance(50 * S);
    expect(signals.samples).toBe(10);
    expect(Object.fromEntries(signals.readCounts)).toEqual({ 'disk:/': 10, cpu: 10, memory: 10 });
  });
});

describe('the shared sampler and the hub life cycle', () => {
  test('clear (a restore) drops every signal and the timer; later conditions sample again', async () => {
    const { clock, signals, hub } = setup();
    await hub.set('a', [{ type: 'when', condition: 'process(pidfile:/run/a.pid) running for 10s' }]);
    expect(hub.sampling()).toEqual({ periodMs: 1000, signals: ['process:pidfile:/run/a.pid'] });
    await hub.clear();
    expect(clock.pendingTimers).toBe(0);
    expect(hub.sampling().signals).toEqual([]);
    await clock.advance(MIN);
    expect(signals.samples).toBe(0);
    await hub.set('b', [{ type: 'when', condition: 'swap > 50%' }]);
    await clock.advance(10 * S);
    expect(signals.samples).toBe(2);
    expect([...signals.readCounts.keys()]).toEqual(['swap']);
  });
});

describe('new metrics on injected samples (virtual clock)', () => {
  test('disk(/) free < 5GB for 1m fires after a minute of low space, with the value in the reason', async () => {
    const { clock, signals, fires, hub } = setup();
    signals.readings.set('disk:/', { freeBytes: 20 * GB, freePercent: 40 });
    await hub.set('clean', [{ type: 'when', condition: 'disk(/) free < 5GB for 1m' }]);
    expect(hub.sampling().periodMs).toBe(5 * S);
    await clock.advance(30 * S);
    signals.readings.set('disk:/', { freeBytes: 4 * GB, freePercent: 8 }); // first low sample at 35 s
    await clock.advance(55 * S); // 85 s: held 50 s
    expect(fires).toEqual([]);
    await clock.advance(10 * S); // 95 s: held for 60 s
    expect(fires.map((f) => f.at)).toEqual([95 * S]);
    expect(fires[0]!.reason).toBe('when: disk(/) free < 5GB for 1m (disk(/) free 4GB)');
  });

  test('process(NAME) not running: a process that stops fires once; a read failure counts as not holding', async () => {
    const { clock, signals, fires, hub } = setup();
    signals.readings.set('process:nginx', { running: 1, cpu: 3, memoryBytes: 1e8, memoryPercent: 1 });
    await hub.set('restart', [{ type: 'when', condition: 'process(nginx) not running for 10s', cooldownMs: 0 }]);
    expect(hub.sampling().periodMs).toBe(1 * S);
    await clock.advance(5 * S);
    signals.readings.set('process:nginx', { running: 0, cpu: 0, memoryBytes: 0, memoryPercent: 0 });
    await clock.advance(10 * S); // first not-running at 6 s; held 10 s at 16 s
    expect(fires).toEqual([]);
    await clock.advance(1 * S);
    expect(fires.map((f) => f.at)).toEqual([16 * S]);
    expect(fires[0]!.reason).toContain('process(nginx) not running');
    signals.readings.delete('process:nginx'); // unreadable: resets (and re-arms)
    await clock.advance(1 * S);
    signals.readings.set('process:nginx', { running: 0, cpu: 0, memoryBytes: 0, memoryPercent: 0 });
    await clock.advance(10 * S);
    expect(fires).toHaveLength(1);
    await clock.advance(1 * S);
    expect(fires.map((f) => f.at)).toEqual([16 * S, 28 * S]);
  });

  test('battery < 20% and on battery; idle for 15m', async () => {
    const { clock, signals, fires, hub } = setup();
    signals.readings.set('battery', { battery: 50 });
    signals.readings.set('power', { ac: 0 });
    signals.readings.set('input', { idle: 0 });
    await hub.set('save', [{ type: 'when', condition: 'battery < 20% and on battery' }]);
    await hub.set('lock', [{ type: 'when', condition: 'idle for 15m' }]);
    await clock.advance(MIN);
    signals.readings.set('battery', { battery: 15 });
    signals.readings.set('input', { idle: 1 }); // from the 65 s sample on
    await clock.advance(5 * S);
    expect(fires.map((f) => `${f.jobId}@${f.at / S}`)).toEqual(['save@65']);
    expect(fires[0]!.reason).toBe('when: battery < 20% and on battery (battery 15.0%, on battery)');
    await clock.advance(15 * MIN);
    expect(fires.map((f) => `${f.jobId}@${f.at / S}`)).toEqual(['save@65', 'lock@965']);
  });
});

describe('refusals for signals this machine cannot read', () => {
  test('refused at set with VALIDATION/when naming what is missing; the job keeps its old triggers', async () => {
    const { clock, signals, fires, hub } = setup();
    signals.missing.set('battery', 'no battery under /sys/class/power_supply (it is empty)');
    signals.missing.set('input', 'user input cannot be told: no keyboard or mouse lines in /proc/interrupts');
    await hub.set('j', [{ type: 'when', condition: 'cpu > 90%' }]);
    await expect(hub.set('j', [{ type: 'when', condition: 'cpu > 95% or battery < 20%' }])).rejects.toMatchObject({
      code: 'VALIDATION', field: 'when',
      message: "when: 'cpu > 95% or battery < 20%' is not available here: no battery under /sys/class/power_supply (it is empty)",
    });
    await expect(hub.set('k', [{ type: 'when', condition: 'idle for 5m' }])).rejects.toThrow(/not available here: user input cannot be told/);
    expect(hub.counts().conditions).toBe(1);
    expect(hub.sampling().signals).toEqual(['cpu']);
    signals.value.cpu = 92;
    await clock.advance(5 * S);
    expect(fires.map((f) => f.jobId)).toEqual(['j']);
  });
});
