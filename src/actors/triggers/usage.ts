/**
 * The real machine as a {@link SignalSource}: `node:os` for CPU, load and memory, `/proc/meminfo`
 * for swap, `fs.statfs` for disks, `/sys/class/power_supply` for battery and AC, `/proc/interrupts`
 * and `/dev/input` for user input, `/proc` + pidusage for processes (`processes.ts`).
 */
import { existsSync, readFileSync, readdirSync, statfsSync } from 'node:fs';
import { readFile, readdir, stat, statfs } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Reading, Sample, SignalSource } from './signals';
import { ProcessReader } from './processes';

/** Options of {@link SystemSignals}. */
export interface SystemSignalsOptions {
  /**
   * Where `/proc`, `/sys` and `/dev` are found: tests point it at a fake tree. CPU, load, memory
   * and disks always read the real machine.
   * @default '/'
   */
  root?: string;
}

interface CpuTimes {
  busy: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times;
    const all = t.user + t.nice + t.sys + t.idle + t.irq;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}

// Interrupt lines of human input devices: PS/2 keyboard and mouse (laptops), and drivers that
// name the device. USB HID input shares the xHCI controller's line and cannot be told apart.
const INPUT_IRQ = /i8042|keyboard|mouse|touchpad|trackpad|trackpoint/i;

/**
 * Reads the real machine. CPU is the busy share of the time between two reads (cumulative
 * counters from `os.cpus()`), so the first read measures from construction; `idle` compares the
 * input counters with the previous read, so the first read reports input (not idle).
 */
export class SystemSignals implements SignalSource {
  readonly #root: string;
  readonly #procs: ProcessReader;
  #lastCpu: CpuTimes = cpuTimes();
  #cpuPercent = 0;
  #lastInput: number | null = null;

  constructor(opts: SystemSignalsOptions = {}) {
    this.#root = opts.root ?? '/';
    this.#procs = new ProcessReader(this.#path('proc'));
  }

  #path(...parts: string[]): string {
    return path.join(this.#root, ...parts);
  }

  unavailable(signal: string): string | null {
    const linuxOnly = (what: string, file: string): string | null =>
      existsSync(this.#path(file)) ? null : `${what} is read from /${file}, which this platform does not have (${process.platform})`;
    if (signal === 'cpu' || signal === 'memory' || signal === 'load') return null;
    if (signal === 'swap') return linuxOnly('swap', 'proc/meminfo');
    if (signal.startsWith('disk:')) {
      const p = signal.slice(5);
      try {
        statfsSync(p);
        return null;
      } catch (err) {
        return `disk(${p}): cannot read its file system (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
      }
    }
    if (signal.startsWith('process:')) {
      return signal.startsWith('process:pidfile:') ? null : linuxOnly('a process by name', 'proc');
    }
    if (signal === 'battery' || signal === 'power') {
      const dir = 'sys/class/power_supply';
      const supplies = this.#supplies();
      if (supplies === null) return `${signal === 'battery' ? 'battery' : 'AC power'} is read from /${dir}, which this platform does not have (${process.platform})`;
      const names = supplies.length === 0 ? 'it is empty' : `it has ${supplies.map((s) => `${s.name} (${s.type})`).join(', ')}`;
      if (signal === 'battery' && !supplies.some((s) => s.type === 'Battery' && s.capacity !== undefined)) {
        return `no battery under /${dir} (${names})`;
      }
      if (signal === 'power' && !supplies.some((s) => s.online !== undefined || (s.type === 'Battery' && s.status !== undefined))) {
        return `no AC adapter or battery status under /${dir} (${names})`;
      }
      return null;
    }
    if (signal === 'input') {
      if (this.#inputIrqs() !== null || this.#inputDevices().length > 0) return null;
      return 'user input cannot be told: no keyboard or mouse lines in /proc/interrupts and no /dev/input/event* devices ' +
        '(a server, VM or container without local input)';
    }
    return `unknown signal '${signal}'`;
  }

  async read(signals: readonly string[]): Promise<Sample> {
    const out = new Map<string, Reading>();
    const procs = signals.filter((s) => s.startsWith('process:')).map((s) => s.slice(8));
    const procReadings = procs.length > 0 ? this.#procs.read(procs).catch(() => new Map<string, Reading>()) : null;
    let meminfo: Promise<Map<string, number> | null> | null = null;
    const mem = (): Promise<Map<string, number> | null> => (meminfo ??= this.#meminfo());
    await Promise.all(signals.map(async (signal) => {
      try {
        const r = await this.#readOne(signal, mem);
        if (r !== null) out.set(signal, r);
      } catch {
        // Unreadable this time (a disk unmounted, a file gone): its checks do not hold.
      }
    }));
    if (procReadings) for (const [target, r] of await procReadings) out.set(`process:${target}`, r);
    return out;
  }

  async #readOne(signal: string, mem: () => Promise<Map<string, number> | null>): Promise<Reading | null> {
    switch (signal) {
      case 'cpu': return { percent: this.#cpu() };
      case 'load': return { load1: os.loadavg()[0] ?? 0 };
      case 'memory': {
        const total = os.totalmem();
        const info = await mem();
        // MemAvailable (what can be had without swapping) is what people mean by free memory.
        const free = info?.get('MemAvailable') ?? os.freemem();
        return { usedPercent: total > 0 ? clampPercent(((total - free) / total) * 100) : 0, freeBytes: free, freePercent: total > 0 ? clampPercent((free / total) * 100) : 0 };
      }
      case 'swap': {
        const info = await mem();
        if (!info) return null;
        const total = info.get('SwapTotal') ?? 0;
        const used = Math.max(0, total - (info.get('SwapFree') ?? 0));
        // No swap configured: none used.
        return { usedBytes: used, usedPercent: total > 0 ? clampPercent((used / total) * 100) : 0 };
      }
      case 'battery': {
        const bats = (await this.#suppliesAsync()).filter((s) => s.type === 'Battery' && s.capacity !== undefined);
        if (bats.length === 0) return null;
        return { battery: bats.reduce((a, s) => a + s.capacity!, 0) / bats.length };
      }
      case 'power': {
        const all = await this.#suppliesAsync();
        const adapters = all.filter((s) => s.online !== undefined && s.type !== 'Battery');
        if (adapters.length > 0) return { ac: adapters.some((s) => s.online === 1) ? 1 : 0 };
        const bats = all.filter((s) => s.type === 'Battery' && s.status !== undefined);
        if (bats.length === 0) return null;
        return { ac: bats.some((s) => s.status === 'Discharging') ? 0 : 1 };
      }
      case 'input': {
        const activity = await this.#inputActivity();
        const idle = this.#lastInput !== null && activity === this.#lastInput ? 1 : 0;
        this.#lastInput = activity;
        return { idle };
      }
      default:
        if (signal.startsWith('disk:')) {
          const s = await statfs(signal.slice(5));
          // bavail: what an unprivileged user can still write (as df shows it), not bfree.
          return { freeBytes: s.bavail * s.bsize, freePercent: s.blocks > 0 ? clampPercent((s.bavail / s.blocks) * 100) : 0 };
        }
        return null;
    }
  }

  #cpu(): number {
    const now = cpuTimes();
    const dTotal = now.total - this.#lastCpu.total;
    // Counters tick at ~10 ms: two reads close together can show no progress; keep the last value.
    if (dTotal > 0) {
      this.#cpuPercent = clampPercent(((now.busy - this.#lastCpu.busy) / dTotal) * 100);
      this.#lastCpu = now;
    }
    return this.#cpuPercent;
  }

  async #meminfo(): Promise<Map<string, number> | null> {
    try {
      const text = await readFile(this.#path('proc/meminfo'), 'utf8');
      const out = new Map<string, number>();
      for (const m of text.matchAll(/^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?$/gm)) out.set(m[1]!, Number(m[2]) * 1024);
      return out;
    } catch {
      return null;
    }
  }

  #supplies(): Supply[] | null {
    const dir = this.#path('sys/class/power_supply');
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return null;
    }
    const read = (name: string, file: string): string | undefined => {
      try {
        return readFileSync(path.join(dir, name, file), 'utf8').trim();
      } catch {
        return undefined;
      }
    };
    return names.map((name) => supply(name, (file) => read(name, file)));
  }

  async #suppliesAsync(): Promise<Supply[]> {
    const dir = this.#path('sys/class/power_supply');
    const names = await readdir(dir);
    return Promise.all(names.map(async (name) => {
      const files = new Map<string, string>();
      await Promise.all(['type', 'capacity', 'online', 'status'].map(async (f) => {
        try {
          files.set(f, (await readFile(path.join(dir, name, f), 'utf8')).trim());
        } catch {
          // not every supply has every file
        }
      }));
      return supply(name, (f) => files.get(f));
    }));
  }

  #inputIrqs(text?: string): number | null {
    let t = text;
    if (t === undefined) {
      try {
        t = readFileSync(this.#path('proc/interrupts'), 'utf8');
      } catch {
        return null;
      }
    }
    let found = false;
    let sum = 0;
    for (const line of t.split('\n')) {
      if (!INPUT_IRQ.test(line)) continue;
      found = true;
      for (const n of line.replace(/^\s*\w+:/, '').trim().split(/\s+/)) if (/^\d+$/.test(n)) sum += Number(n);
    }
    return found ? sum : null;
  }

  #inputDevices(): string[] {
    try {
      return readdirSync(this.#path('dev/input')).filter((n) => n.startsWith('event')).map((n) => this.#path('dev/input', n));
    } catch {
      return [];
    }
  }

  /** A number that changes whenever there was user input: input interrupt counts plus the devices' latest access time. */
  async #inputActivity(): Promise<number> {
    let irqs = 0;
    try {
      irqs = this.#inputIrqs(await readFile(this.#path('proc/interrupts'), 'utf8')) ?? 0;
    } catch {
      // no /proc/interrupts: devices only
    }
    let latest = 0;
    for (const dev of this.#inputDevices()) {
      try {
        const s = await stat(dev);
        latest = Math.max(latest, s.atimeMs, s.mtimeMs);
      } catch {
        // a device unplugged between readdir and stat
      }
    }
    return irqs + latest;
  }
}

interface Supply {
  name: string;
  type: string;
  capacity?: number;
  online?: number;
  status?: string;
}

function supply(name: string, file: (f: string) => string | undefined): Supply {
  const num = (f: string): number | undefined => {
    const v = file(f);
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const status = file('status');
  return {
    name, type: file('type') ?? 'Unknown',
    ...(num('capacity') !== undefined ? { capacity: num('capacity')! } : {}),
    ...(num('online') !== undefined ? { online: num('online')! } : {}),
    ...(status !== undefined ? { status } : {}),
  };
}

function clampPercent(v: number): number {
  return Math.min(100, Math.max(0, v));
}

