import { VirtualClock } from '../../src/runtime/clock';
import { ValidationError } from '../../src/errors';
import { TriggerHub } from '../../src/actors/triggers/hub';
import { FakeSignals } from './fake-signals';

const S = 1000;
const MIN = 60 * S;

function setup() {
  const clock = new VirtualClock();
  const usage = new FakeSignals();
  const fires: Array<{ jobId: string; reason: string; at: number }> = [];
  // A fixed 5 s period: these tests are about the edge logic; the adaptive period has its own.
  const hub = new TriggerHub({
    clock, signals: usage, samplePeriod: { minMs: 5 * S, maxMs: 5 * S },
    onFire: (jobId, reason) => fires.push({ jobId, reason, at: clock.monotonic() }),
  });
  return { clock, usage, fires, hub };
}

describe('TriggerHub when-conditions (virtual clock)', () => {
  test('fires once after the condition has held for forMs, then not again while it keeps holding', async () => {
    const { clock, usage, fires, hub } = setup();
    await hub.set('job1', [{ type: 'when', condition: 'cpu idle for 1m' }]);
    usage.value.cpu = 2;
    // First sample at 5 s starts the hold; it has held 1 min at the 65 s sample.
    await clock.advance(60 * S);
    expect(fires).toEqual([]);
    await clock.advance(5 * S);
    expect(fires).toHaveLength(1);
    expect(fires[0]).toMatchObject({ jobId: 'job1', at: 65 * S });
    expect(fires[0]!.reason).toContain('cpu idle for 1m');
    // Still idle an hour later: edge-triggered, no second fire even after the cooldown.
    await clock.advance(60 * MIN);
    expect(fires).toHaveLength(1);
  });

  test('a dip resets the hold', async () => {
    const { clock, usage, fires, hub } = setup();
    await hub.set('j', [{ type: 'when', condition: 'cpu < 10% for 1m' }]);
    usage.value.cpu = 2;
    await clock.advance(50 * S); // samples at 5..50 s hold
    usage.value.cpu = 40;
    await clock.advance(5 * S); // 55 s: dip
    usage.value.cpu = 2;
    await clock.advance(60 * S); // 60..115 s hold again: only 55 s held
    expect(fires).toEqual([]);
    await clock.advance(5 * S); // 120 s: held 60 s since the 60 s sample
    expect(fires.map((f) => f.at)).toEqual([120 * S]);
  });

  test('fires again in the next period, but not before the cooldown', async () => {
    const { clock, usage, fires, hub } = setup();
    await hub.set('j', [{ type: 'when', condition: 'memory > 80%', cooldownMs: 2 * MIN }]);
    usage.value.memory = 90;
    await clock.advance(5 * S);
    expect(fires.map((f) => f.at)).toEqual([5 * S]);
    // A new period (false, then true) inside the cooldown does not fire...
    usage.value.memory = 10;
    await clock.advance(5 * S);
    usage.value.memory = 95;
    await clock.advance(60 * S);
    expect(fires).toHaveLength(1);
    // ...until the cooldown since the first fire has passed (2 min after 5 s = the 125 s sample).
    await clock.advance(60 * S);
    expect(fires.map((f) => f.at)).toEqual([5 * S, 125 * S]);
  });

  test('the default cooldown is max(forMs, 60 s)', async () => {
    const { clock, usage, fires, hub } = setup();
    await hub.set('j', [{ type: 'when', condition: 'load > 2' }]);
    for (let i = 0; i < 24; i++) { // two minutes flapping every sample
      usage.value.load = i % 2 === 0 ? 3 : 1;
      await clock.advance(5 * S);
    }
    expect(fires.map((f) => f.at)).toEqual([5 * S, 65 * S]);
  });

  test('samples only while a condition exists', async () => {
    const { clock, usage, hub } = setup();
    await clock.advance(60 * S);
    expect(usage.samples).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    await hub.set('j', [{ type: 'when', condition: 'cpu > 90%' }]);
    await clock.advance(20 * S);
    expect(usage.samples).toBe(4);
    expect(hub.counts()).toEqual({ watches: 0, conditions: 1 });
    await hub.remove('j');
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(60 * S);
    expect(usage.samples).toBe(4);
    expect(hub.counts()).toEqual({ watches: 0, conditions: 0 });
  });

  test('a bad condition is refused with VALIDATION/when and leaves the old triggers in place', async () => {
    const { clock, usage, fires, hub } = setup();
    await hub.set('j', [{ type: 'when', condition: 'cpu > 90%' }]);
    await expect(hub.set('j', [{ type: 'when', condition: 'disk > 90%' }]))
      .rejects.toMatchObject({ code: 'VALIDATION', field: 'when' });
    await expect(hub.set('j', [{ type: 'when', condition: 'nonsense' }])).rejects.toBeInstanceOf(ValidationError);
    usage.value.cpu = 95;
    await clock.advance(5 * S);
    expect(fires).toHaveLength(1);
  });

  test('several jobs and conditions are independent; after-triggers are ignored', async () => {
    const { clock, usage, fires, hub } = setup();
    await hub.set('a', [{ type: 'when', condition: 'cpu > 90%' }, { type: 'after', job: 'x', on: 'succeeded' }]);
    await hub.set('b', [{ type: 'when', condition: 'memory > 80%' }, { type: 'when', condition: 'cpu > 50% for 10s' }]);
    expect(hub.counts()).toEqual({ watches: 0, conditions: 3 });
    Object.assign(usage.value, { cpu: 95, memory: 10, load: 0 });
    await clock.advance(15 * S);
    expect(fires.map((f) => `${f.jobId}@${f.at / S}`)).toEqual(['a@5', 'b@15']);
  });

  test('setting the same condition again keeps its state (no refire on resume/update)', async () => {
    const { clock, usage, fires, hub } = setup();
    await hub.set('j', [{ type: 'when', condition: 'cpu > 90%' }]);
    usage.value.cpu = 95;
    await clock.advance(5 * S);
    await hub.set('j', [{ type: 'when', condition: 'cpu > 90%' }]);
    await clock.advance(5 * MIN);
    expect(fires).toHaveLength(1);
  });

  test('a throwing onFire or usage source does not stop sampling', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    let failSample = true;
    const usage = new FakeSignals();
    usage.value.cpu = 99;
    usage.failWith = () => (failSample ? new Error('no /proc') : null);
    const hub = new TriggerHub({
      clock, signals: usage, samplePeriod: { minMs: 1000, maxMs: 1000 },
      onFire: () => { calls++; throw new Error('listener bug'); },
    });
    await hub.set('a', [{ type: 'when', condition: 'cpu > 90%', cooldownMs: 0 }]);
    await hub.set('b', [{ type: 'when', condition: 'cpu > 90%', cooldownMs: 0 }]);
    await clock.advance(3000);
    expect(calls).toBe(0);
    failSample = false;
    await clock.advance(1000);
    expect(calls).toBe(2);
    await hub.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  test('stop clears the timer and refuses new triggers', async () => {
    const { clock, usage, fires, hub } = setup();
    await hub.set('j', [{ type: 'when', condition: 'cpu > 90%' }]);
    await hub.stop();
    expect(clock.pendingTimers).toBe(0);
    await hub.set('k', [{ type: 'when', condition: 'cpu > 90%' }]);
    usage.value.cpu = 99;
    await clock.advance(MIN);
    expect(fires).toEqual([]);
    expect(hub.counts()).toEqual({ watches: 0, conditions: 0 });
  });
});
