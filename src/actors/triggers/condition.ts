/**
 * `--when CONDITION`: the usage/threshold language of event triggers. Pure: text in, a validated
 * {@link Condition} out, and {@link holds} to test a {@link Sample} against it. Which signal each
 * check reads is decided here ({@link Check.signal}); reading it is `usage.ts`'s job.
 */
import { ValidationError } from '../../errors';
import { formatSize, parseDuration, parseSize } from '../../model/duration';
import type { Sample } from './signals';

/** What a check watches. */
export type Metric =
  | 'cpu' | 'memory' | 'memory.free' | 'swap' | 'load' | 'disk.free' | 'battery' | 'ac'
  | 'process.cpu' | 'process.memory' | 'process.running' | 'idle';
/** A comparison operator; `=` only for the yes/no checks (`running`, `on ac power`, `idle`). */
export type Comparison = '<' | '<=' | '>' | '>=' | '=';
/** The threshold's unit: a percentage, bytes, a plain number, or a yes/no flag (1/0). */
export type Unit = '%' | 'bytes' | 'number' | 'flag';

/** One comparison of a condition (`memory.free < 2GB`, `process(nginx) not running`). */
export interface Check {
  metric: Metric;
  /** `disk(PATH)`: the path; `process(X)`: the name, or `pidfile:PATH`. */
  target?: string;
  op: Comparison;
  value: number;
  unit: Unit;
  /** The signal this check reads (one reading per signal per sample, however many checks use it). */
  signal: string;
  /** The field of that signal's reading it compares. */
  field: string;
  /** The check as written, for reasons and messages. */
  text: string;
}

/** A parsed `--when` condition: one check, or several joined by `and` / `or`. */
export interface Condition {
  /** How the parts combine (`and` for a single check). */
  join: 'and' | 'or';
  parts: Check[];
  /** How long the whole must hold without a break before the condition fires. @default 0 */
  forMs: number;
  /** The text as the user wrote it (trimmed), for reasons and messages. */
  text: string;
}

/** The metrics, as listed in every parse error. */
export const METRIC_LIST = 'cpu, memory, memory.free, swap, load, disk(PATH).free, process(NAME).cpu, ' +
  'process(NAME).memory, process(NAME) running, process(NAME) not running, battery, on ac power, on battery, idle';
const FORMS = `metrics: ${METRIC_LIST}; use e.g. 'cpu idle for 10m', 'memory > 80%', 'memory.free < 2GB', ` +
  "'disk(/var).free < 10%', 'process(nginx) not running for 1m', 'battery < 20% and on battery', 'idle for 15m', " +
  "'load > 4 or swap > 50%'";

/** `cpu idle` means below this % busy. */
export const IDLE_CPU_PERCENT = 10;

const ALIASES: Record<string, string> = { mem: 'memory', ram: 'memory' };
// Words people put between the metric and the operator; they change nothing.
const FILLER = /^(?:used|usage|use|busy|utilisation|utilization|average|avg|level|charge)$/;

interface MetricInfo {
  metric: Metric;
  /** Which units its threshold may have: the first is the default for a plain number. */
  units: Unit[];
  /** Needs `(ARG)`: `disk(PATH)`, `process(NAME)`. */
  target?: boolean;
  /** Largest % allowed (cpu % of all cores is ≤ 100; a process's cpu is % of one core). */
  maxPercent?: number;
}

const COMPARABLE: Record<string, MetricInfo> = {
  cpu: { metric: 'cpu', units: ['%'], maxPercent: 100 },
  memory: { metric: 'memory', units: ['%'], maxPercent: 100 },
  'memory.free': { metric: 'memory.free', units: ['bytes', '%'], maxPercent: 100 },
  swap: { metric: 'swap', units: ['%', 'bytes'], maxPercent: 100 },
  load: { metric: 'load', units: ['number'] },
  battery: { metric: 'battery', units: ['%'], maxPercent: 100 },
  'disk.free': { metric: 'disk.free', units: ['bytes', '%'], target: true, maxPercent: 100 },
  'process.cpu': { metric: 'process.cpu', units: ['%'], target: true },
  'process.memory': { metric: 'process.memory', units: ['bytes', '%'], target: true, maxPercent: 100 },
};

/**
 * Parses a `--when` condition (grammar in docs/triggers.md). Case-insensitive, except the PATH and
 * NAME inside `disk(...)` / `process(...)`.
 *
 * @throws ValidationError with field `when`, one line naming the bad token and listing the metrics.
 * @example
 * parseCondition('disk(/var).free < 10% for 5m') // one check: metric 'disk.free', target '/var', unit '%'
 */
export function parseCondition(text: string): Condition {
  const src = String(text).trim();
  const fail = (what: string): never => {
    throw new ValidationError(`when: '${src}' ${what} (${FORMS})`, 'when');
  };
  if (src === '') fail('is empty');

  // Take the (ARG)s out first: they keep their case and may hold spaces, "for", "and", "<".
  const args: string[] = [];
  const masked = src.replace(/\(([^()]*)\)/g, (_m, arg: string) => `(\uE000${args.push(arg.trim()) - 1})`);
  if (/[()]/.test(masked.replace(/\(\uE000\d+\)/g, ''))) fail('has an unbalanced parenthesis');
  const unmask = (s: string): string => s.replace(/\(\uE000(\d+)\)/g, (_m, i: string) => `(${args[Number(i)]!})`);

  // Split off "for DUR" so the duration's own letters never confuse the comparison part.
  const forMatch = /^(.*?)\s+for\s+(.+)$/i.exec(masked);
  const head = (forMatch ? forMatch[1]! : masked).trim().toLowerCase();
  let forMs = 0;
  if (forMatch) {
    if (/\s(?:and|or)\s/i.test(` ${forMatch[2]!} `)) fail("has 'for DUR' inside a part: give it once, at the end");
    try {
      forMs = parseDuration(unmask(forMatch[2]!), 'when');
    } catch {
      fail(`has a bad duration after 'for': '${unmask(forMatch[2]!).trim()}'`);
    }
  }

  const joins = [...head.matchAll(/\s+(and|or)\s+/g)].map((m) => m[1]!);
  if (new Set(joins).size > 1) fail("mixes 'and' with 'or' (no parentheses: use one of them per condition)");
  const pieces = head.split(/\s+(?:and|or)\s+/);
  const parts = pieces.map((piece) => {
    if (/\sfor\s/.test(` ${piece} `)) fail("has 'for DUR' inside a part: give it once, at the end");
    const part = unmask(piece);
    return check(piece, args, part, pieces.length > 1 ? `has a part that is not a condition: '${part}'` : 'is not a condition', fail);
  });
  return { join: (joins[0] as 'and' | 'or' | undefined) ?? 'and', parts, forMs, text: src };
}

/** One check (`cpu idle`, `disk(#0).free < 5gb`); `piece` is lowercased with its args masked. */
function check(piece: string, args: string[], text: string, notACondition: string, fail: (what: string) => never): Check {
  const argOf = (masked: string | undefined): string | undefined =>
    masked === undefined ? undefined : args[Number(/\uE000(\d+)/.exec(masked)![1])];
  const flag = (metric: Metric, value: 0 | 1, signal: string, field: string, target?: string): Check =>
    ({ metric, ...(target !== undefined ? { target } : {}), op: '=', value, unit: 'flag', signal, field, text });

  if (/^cpu\s+idle$/.test(piece)) {
    return { metric: 'cpu', op: '<', value: IDLE_CPU_PERCENT, unit: '%', signal: 'cpu', field: 'percent', text };
  }
  if (/^(?:user\s+)?idle$/.test(piece)) return flag('idle', 1, 'input', 'idle');
  if (/^on\s+(?:ac|mains)(?:\s+power)?$/.test(piece)) return flag('ac', 1, 'power', 'ac');
  if (/^on\s+battery(?:\s+power)?$/.test(piece)) return flag('ac', 0, 'power', 'ac');
  const proc = /^process\((\uE000\d+)\)\s+(not\s+)?running$/.exec(piece);
  if (proc) {
    const target = processTarget(argOf(proc[1])!, fail);
    return flag('process.running', proc[2] ? 0 : 1, `process:${target}`, 'running', target);
  }

  // METRIC[(ARG)][.FIELD | FIELD] [FILLER...] OP VALUE
  const m = /^([a-z]+)(\(\uE000\d+\))?(?:\.([a-z]+))?((?:\s+[a-z]+)*?)\s*(<=|>=|<|>|=)\s*(\d+(?:\.\d+)?\s*[a-z%]+|\S+)$/.exec(piece);
  if (!m) return fail(notACondition);
  const base = ALIASES[m[1]!] ?? m[1]!;
  let field: string | undefined = m[3];
  const words = m[4]!.trim().split(/\s+/).filter((w) => w !== '');
  // `disk(/) free < 5GB`, `memory free < 1GB`: the field may also come as a word.
  if (field === undefined && words[0] !== undefined && fieldsOf(base).includes(words[0])) field = words.shift();
  const name = field === undefined ? base : `${base}.${field}`;
  if (!isMetricWord(base)) return fail(`names an unknown metric '${m[1]!}'`);
  const info = Object.hasOwn(COMPARABLE, name) ? COMPARABLE[name]! : undefined;
  if (info === undefined) {
    if (field !== undefined) return fail(`names an unknown field '${field}' of ${base} (${fieldsOf(base).map((f) => `${base}.${f}`).join(', ') || base})`);
    if (words[0] !== undefined && !FILLER.test(words[0]) && fieldsOf(base).length > 0) {
      return fail(`has an unexpected word '${words[0]}' after '${base}${m[2] ? '(…)' : ''}' (${fieldsOf(base).map((f) => `${base}.${f}`).join(', ')})`);
    }
    if (fieldsOf(base).length === 0) return fail(`compares '${base}', which is a yes/no check (write it alone: '${base === 'on' ? 'on ac power' : base}')`);
    return fail(`needs a field after '${base}${m[2] ? '(…)' : ''}' (${fieldsOf(base).map((f) => `${base}.${f}`).join(', ')})`);
  }
  const rawTarget = argOf(m[2]);
  if (info.target && rawTarget === undefined) fail(`needs ${base}(${base === 'disk' ? 'PATH' : 'NAME'}) before '.${field ?? ''}'`);
  if (!info.target && rawTarget !== undefined) fail(`gives '${base}' an argument '(${rawTarget})' it does not take`);
  for (const word of words) if (!FILLER.test(word)) fail(`has an unexpected word '${word}'`);
  const op = m[5] as Comparison;
  if (op === '=') fail("compares with '=' (use <, <=, > or >=)");

  const { value, unit } = threshold(m[6]!, info, name, fail);
  let target: string | undefined;
  let signal: string;
  if (base === 'disk') {
    target = rawTarget!;
    if (!target.startsWith('/')) fail(`needs an absolute path in disk(${target})`);
    signal = `disk:${target}`;
  } else if (base === 'process') {
    target = processTarget(rawTarget!, fail);
    signal = `process:${target}`;
  } else {
    signal = base;
  }
  const fieldName = fieldOf(info.metric, unit);
  return { metric: info.metric, ...(target !== undefined ? { target } : {}), op, value, unit, signal, field: fieldName, text };
}

function isMetricWord(w: string): boolean {
  return ['cpu', 'memory', 'mem', 'ram', 'swap', 'load', 'disk', 'process', 'battery', 'idle', 'on'].includes(w);
}

function fieldsOf(base: string): string[] {
  return base === 'memory' ? ['free'] : base === 'disk' ? ['free'] : base === 'process' ? ['cpu', 'memory'] : [];
}

/** `pidfile:/run/x.pid` stays as is; a name must be one word without `/`. */
function processTarget(arg: string, fail: (what: string) => never): string {
  const pf = /^pidfile:(.*)$/i.exec(arg);
  if (pf) {
    if (!pf[1]!.startsWith('/')) fail(`needs an absolute path in process(pidfile:${pf[1]!})`);
    return `pidfile:${pf[1]!}`;
  }
  if (arg === '' || /[\s/]/.test(arg)) fail(`has a bad process name '${arg}' (a name as in ps, or pidfile:/abs/path)`);
  return arg;
}

function threshold(raw: string, info: MetricInfo, name: string, fail: (what: string) => never): { value: number; unit: Unit } {
  const v = raw.replace(/\s+/g, ''); // `5 GB`, `10 %`
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(v);
  const plain = /^\d+(?:\.\d+)?$/.test(v);
  const allowed = info.units.map((u) => (u === '%' ? 'a percentage' : u === 'bytes' ? 'a size such as 5GB' : 'a number')).join(' or ');
  if (pct || (plain && info.units[0] === '%')) {
    if (!info.units.includes('%')) fail(`gives ${name} as a percentage '${raw}' (${name} takes ${allowed})`);
    const value = Number(pct ? pct[1] : v);
    if (info.maxPercent !== undefined && value > info.maxPercent) fail(`has a ${name} threshold above ${info.maxPercent}%`);
    return { value, unit: '%' };
  }
  if (plain && info.units[0] === 'number') return { value: Number(v), unit: 'number' };
  if (info.units.includes('bytes')) {
    try {
      return { value: parseSize(v, 'when'), unit: 'bytes' };
    } catch {
      // fall through to the message naming the token
    }
  }
  return fail(`has a bad threshold '${raw}' (${name} takes ${allowed})`);
}

/** Which field of the signal's reading a check compares. */
function fieldOf(metric: Metric, unit: Unit): string {
  switch (metric) {
    case 'cpu': return 'percent';
    case 'memory': return 'usedPercent';
    case 'memory.free': case 'disk.free': return unit === '%' ? 'freePercent' : 'freeBytes';
    case 'swap': return unit === '%' ? 'usedPercent' : 'usedBytes';
    case 'load': return 'load1';
    case 'battery': return 'battery';
    case 'process.cpu': return 'cpu';
    case 'process.memory': return unit === '%' ? 'memoryPercent' : 'memoryBytes';
    default: return metric;
  }
}

/** True when `sample` satisfies the condition's checks (duration aside). A signal missing from the sample fails its checks. */
export function holds(cond: Condition, sample: Sample): boolean {
  return cond.join === 'or' ? cond.parts.some((p) => checkHolds(p, sample)) : cond.parts.every((p) => checkHolds(p, sample));
}

function checkHolds(c: Check, sample: Sample): boolean {
  const v = sample.get(c.signal)?.[c.field];
  if (v === undefined || Number.isNaN(v)) return false;
  switch (c.op) {
    case '<': return v < c.value;
    case '<=': return v <= c.value;
    case '>': return v > c.value;
    case '>=': return v >= c.value;
    case '=': return v === c.value;
  }
}

/** The distinct signals the condition reads. */
export function signalsOf(cond: Condition): string[] {
  return [...new Set(cond.parts.map((p) => p.signal))];
}

/** Formats the sampled values of the condition's checks, for a fire reason: `cpu 3.2%, disk(/) free 4.1GB`. */
export function describeValue(cond: Condition, sample: Sample): string {
  return [...new Set(cond.parts.map((p) => describeCheck(p, sample)))].join(', ');
}

function describeCheck(c: Check, sample: Sample): string {
  const v = sample.get(c.signal)?.[c.field];
  const label = c.metric === 'disk.free' ? `disk(${c.target!}) free`
    : c.metric.startsWith('process.') ? `process(${c.target!})${c.metric === 'process.running' ? '' : ` ${c.metric.slice(8)}`}`
      : c.metric;
  if (v === undefined) return `${label} unknown`;
  if (c.metric === 'process.running') return `${label} ${v === 1 ? 'running' : 'not running'}`;
  if (c.metric === 'ac') return v === 1 ? 'on ac power' : 'on battery';
  if (c.metric === 'idle') return v === 1 ? 'no user input' : 'user input';
  if (c.unit === 'bytes') return `${label} ${formatSize(v)}`;
  if (c.unit === 'number') return `${label} ${v.toFixed(2)}`;
  return `${label} ${v.toFixed(1)}%`;
}
