/**
 * One shared sampler for every `--when` condition: what does a tick cost with 1 condition, and with
 * 1,000, reading the real machine (os, /proc/meminfo, statfs, a /proc scan + pidusage)?
 *
 * Same process, same run, rounds interleaved (1, 1000, 1, 1000, ...) so load on the machine hits both
 * alike. Each hub runs on a VirtualClock: one `advance(period)` = one tick = one read of every
 * distinct signal + the evaluation of every condition. The 1,000 conditions use the same six
 * signals as the single one (cpu, memory, load, swap, disk(/), process(node)), with different
 * thresholds, so the difference is what 999 more conditions cost.
 *
 * Peer, same run: "1,000 samplers", i.e. each condition reading its own signals (1,000
 * `SystemSignals.read` calls per tick, as a sampler per condition would), measured on fewer ticks.
 *
 * Run: `npm run bench:usage [-- --ticks 30]`. Prints JSON; writes bench/results/usage-sampler.json.
 */
import { TriggerHub } from '../src/actors/triggers/hub';
import { parseCondition, signalsOf } from '../src/actors/triggers/condition';
import { SystemSignals } from '../src/actors/triggers/usage';
import { VirtualClock } from '../src/runtime/clock';
import { msSince, percentiles, writeResult } from './lib';

const ticks = Number(process.argv[process.argv.indexOf('--ticks') + 1]) || 30;
const peerTicks = 3;
const PERIOD = 1000;

/** The i-th of n conditions: the six signals in turn, thresholds that rarely hold (no fires to count). */
function condition(i: number): string {
  switch (i % 6) {
    case 0: return `cpu > ${99 + (i % 10) / 10}% for 1m`;
    case 1: return `memory.free < ${1 + (i % 50)}MB`;
    case 2: return `load > ${1000 + i}`;
    case 3: return `swap > ${99 + (i % 10) / 10}%`;
    case 4: return `disk(/) free < ${1 + (i % 50)}KB`;
    default: return `process(node).memory > ${500 + i}GB`;
  }
}
const SINGLE = 'cpu > 99.9% or memory.free < 1MB or load > 1000 or swap > 99.9% or disk(/) free < 1KB or process(node).memory > 500GB for 1m';

/**
 * The real machine, telling when a read has finished: the file reads run on libuv's pool, which the
 * VirtualClock does not wait for. `done` resolves on the immediate after the read, i.e. after the
 * hub has evaluated every condition on it (a microtask continuation of the read).
 */
class TimedSignals extends SystemSignals {
  #waiter: (() => void) | null = null;
  done(): Promise<void> {
    return new Promise((resolve) => (this.#waiter = resolve));
  }
  override async read(signals: readonly string[]): ReturnType<SystemSignals['read']> {
    const r = await super.read(signals);
    const w = this.#waiter;
    this.#waiter = null;
    if (w) setImmediate(w);
    return r;
  }
}

interface Bench { clock: VirtualClock; hub: TriggerHub; src: TimedSignals; fires: number[] }

/** One tick: advance the clock one period and wait for the read and the evaluation. */
async function tick(b: Bench): Promise<void> {
  const done = b.src.done();
  await b.clock.advance(PERIOD);
  await done;
}

async function hubWith(n: number): Promise<Bench> {
  const clock = new VirtualClock();
  const fires: number[] = [];
  const src = new TimedSignals();
  const hub = new TriggerHub({
    clock, signals: src, samplePeriod: { minMs: PERIOD, maxMs: PERIOD },
    onFire: () => fires.push(clock.monotonic()),
  });
  if (n === 1) await hub.set('j0', [{ type: 'when', condition: SINGLE }]);
  else for (let i = 0; i < n; i++) await hub.set(`j${i}`, [{ type: 'when', condition: condition(i) }]);
  const b: Bench = { clock, hub, src, fires };
  await tick(b); // warm-up (pidusage's first read of a pid reads it twice)
  return b;
}

const round = (v: number): number => Math.round(v * 1000) / 1000;

async function main(): Promise<void> {
  const one = await hubWith(1);
  const many = await hubWith(1000);
  const t1: number[] = [];
  const t1000: number[] = [];
  const cpu = { one: 0, thousand: 0 };
  for (let r = 0; r < ticks; r++) {
    for (const [h, out, key] of [[one, t1, 'one'], [many, t1000, 'thousand']] as const) {
      const c0 = process.cpuUsage();
      const start = process.hrtime.bigint();
      await tick(h);
      out.push(msSince(start));
      const c = process.cpuUsage(c0);
      cpu[key] += (c.user + c.system) / 1000;
    }
  }
  // Peer: one sampler per condition, each reading its own signals every tick.
  const peers = Array.from({ length: 1000 }, (_, i) => ({ src: new SystemSignals(), signals: signalsOf(parseCondition(condition(i))) }));
  await Promise.all(peers.map((p) => p.src.read(p.signals)));
  const tPeer: number[] = [];
  for (let r = 0; r < peerTicks; r++) {
    const start = process.hrtime.bigint();
    for (const p of peers) await p.src.read(p.signals);
    tPeer.push(msSince(start));
  }
  const p1 = percentiles(t1);
  const p1000 = percentiles(t1000);
  const pPeer = percentiles(tPeer);
  const result = {
    ticks, periodMs: PERIOD,
    distinctSignals: { one: one.hub.sampling().signals.length, thousand: many.hub.sampling().signals.length },
    conditions: { one: one.hub.counts().conditions, thousand: many.hub.counts().conditions },
    tickMs: { oneCondition: p1, thousandConditions: p1000, thousandSamplers: pPeer },
    /** This process's CPU time (user + system) per tick, mean. */
    cpuMsPerTick: { oneCondition: round(cpu.one / ticks), thousandConditions: round(cpu.thousand / ticks) },
    ratio: {
      thousandToOneP50: Math.round((p1000.p50 / p1.p50) * 100) / 100,
      thousandToOneCpu: Math.round((cpu.thousand / cpu.one) * 100) / 100,
      thousandSamplersToSharedP50: Math.round((pPeer.p50 / p1000.p50) * 10) / 10,
    },
    fires: { one: one.fires.length, thousand: many.fires.length },
  };
  await one.hub.stop();
  await many.hub.stop();
  const file = writeResult('usage-sampler', result);
  process.stdout.write(`${JSON.stringify({ ...result, file }, null, 2)}\n`);
}

void main().catch((err) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
