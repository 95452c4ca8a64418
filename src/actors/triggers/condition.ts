/**
 * `--when CONDITION`: the usage/threshold language of event triggers. Pure: text in, a validated
 * {@link Condition} out, and {@link holds} to test a sample against it.
 */
import { ValidationError } from '../../errors';
import { parseDuration } from '../../model/duration';
import type { UsageSample } from './usage';

/** A machine-usage metric a condition can watch. */
export type Metric = 'cpu' | 'memory' | 'load';
/** A comparison operator. */
export type Comparison = '<' | '<=' | '>' | '>=';

/** A parsed `--when` condition. */
export interface Condition {
  /** `cpu` = % busy over all cores, `memory` = % of RAM used, `load` = 1-minute load average. */
  metric: Metric;
  op: Comparison;
  /** Threshold: a percentage (0–100) for cpu and memory, a load average for load. */
  value: number;
  /** How long the comparison must hold without a break before the condition fires. @default 0 */
  forMs: number;
  /** The text as the user wrote it (trimmed), for reasons and messages. */
  text: string;
  /**
   * Compound conditions only (`A and B`, `A or B`): how the parts combine, and the parts (each a
   * simple comparison, `forMs` 0: the `for DUR` at the end applies to the whole). `metric`, `op`
   * and `value` are then the first part's.
   */
  join?: 'and' | 'or';
  parts?: Condition[];
}

const FORMS = "metrics: cpu, memory, load; use e.g. 'cpu < 10% for 10m', 'cpu idle for 10m', 'memory > 80%', " +
  "'memory used > 80% for 1m', 'load > 2 for 5m', 'cpu idle and memory < 50% for 5m', 'load > 4 or memory > 90%'";

/** `cpu idle` means below this % busy. */
export const IDLE_CPU_PERCENT = 10;

const METRICS: Record<string, Metric> = { cpu: 'cpu', memory: 'memory', mem: 'memory', ram: 'memory', load: 'load' };
// Words people put between the metric and the operator; they change nothing.
const FILLER = /^(?:used|usage|use|busy|utilisation|utilization|average|avg)$/;

/**
 * Parses a `--when` condition. Accepted forms (case-insensitive):
 * `METRIC [used|usage|busy] OP NUMBER[%] [for DUR]` with METRIC `cpu`, `memory` (`mem`) or `load`
 * and OP one of `<`, `<=`, `>`, `>=`; and `cpu idle [for DUR]` (= `cpu < 10%`).
 *
 * @throws ValidationError with field `when`, one line naming what is wrong and listing the forms.
 * @example
 * parseCondition('cpu idle for 10m') // { metric: 'cpu', op: '<', value: 10, forMs: 600000, ... }
 */
export function parseCondition(text: string): Condition {
  const src = String(text).trim();
  const fail = (what: string): never => {
    throw new ValidationError(`when: '${src}' ${what} (${FORMS})`, 'when');
  };
  if (src === '') fail('is empty');

  // Split off "for DUR" first so the duration's own letters never confuse the comparison part.
  const forMatch = /^(.*?)\s+for\s+(.+)$/i.exec(src);
  const head = (forMatch ? forMatch[1]! : src).trim().toLowerCase();
  let forMs = 0;
  if (forMatch) {
    try {
      forMs = parseDuration(forMatch[2]!, 'when');
    } catch {
      fail(`has a bad duration after 'for': '${forMatch[2]!.trim()}'`);
    }
  }

  const joins = [...head.matchAll(/\s+(and|or)\s+/g)].map((m) => m[1]!);
  if (joins.length > 0) {
    if (new Set(joins).size > 1) fail("mixes 'and' with 'or' (no parentheses: use one of them per condition)");
    const parts = head.split(/\s+(?:and|or)\s+/).map((part) => {
      if (/\sfor\s/.test(` ${part} `)) fail("has 'for DUR' inside a part: give it once, at the end");
      return { ...comparison(part, src, fail), text: part };
    });
    const first = parts[0]!;
    return { metric: first.metric, op: first.op, value: first.value, forMs, text: src, join: joins[0] as 'and' | 'or', parts };
  }
  return { ...comparison(head, src, fail), forMs };
}

/** One comparison (`cpu idle`, `memory used > 80%`), `forMs` 0, the part's own text. */
function comparison(head: string, src: string, fail: (what: string) => never): Condition {
  if (/^cpu\s+idle$/.test(head)) {
    return { metric: 'cpu', op: '<', value: IDLE_CPU_PERCENT, forMs: 0, text: src };
  }

  const m = /^([a-z]+)((?:\s+[a-z]+)*?)\s*(<=|>=|<|>)\s*(\S+)$/.exec(head);
  if (!m) return fail(head === src.toLowerCase() ? 'is not a condition' : `has a part that is not a condition: '${head}'`);
  const metric = Object.hasOwn(METRICS, m[1]!) ? METRICS[m[1]!] : undefined;
  if (metric === undefined) return fail(`names an unknown metric '${m[1]!}' (cpu, memory or load)`);
  for (const word of m[2]!.trim().split(/\s+/).filter((w) => w !== '')) {
    if (!FILLER.test(word)) fail(`has an unexpected word '${word}'`);
  }
  const op = m[3] as Comparison;
  const num = /^(\d+(?:\.\d+)?)(%?)$/.exec(m[4]!);
  if (!num) return fail(`has a bad threshold '${m[4]!}' (a number, with % for cpu and memory)`);
  const value = Number(num[1]);
  if (metric === 'load') {
    if (num[2] === '%') fail('gives load as a percentage (load is a load average, e.g. load > 2)');
  } else if (value > 100) {
    fail(`has a ${metric} threshold above 100%`);
  }
  return { metric, op, value, forMs: 0, text: src };
}

/** True when `sample` satisfies the condition's comparison (duration aside). */
export function holds(cond: Condition, sample: UsageSample): boolean {
  if (cond.parts !== undefined) {
    return cond.join === 'or' ? cond.parts.some((p) => holds(p, sample)) : cond.parts.every((p) => holds(p, sample));
  }
  const v = sample[cond.metric];
  switch (cond.op) {
    case '<': return v < cond.value;
    case '<=': return v <= cond.value;
    case '>': return v > cond.value;
    case '>=': return v >= cond.value;
  }
}

/** Formats the sampled value of the condition's metric, for a fire reason. */
export function describeValue(cond: Condition, sample: UsageSample): string {
  if (cond.parts !== undefined) {
    return [...new Set(cond.parts.map((p) => describeValue(p, sample)))].join(', ');
  }
  const v = sample[cond.metric];
  return cond.metric === 'load' ? `load ${v.toFixed(2)}` : `${cond.metric} ${v.toFixed(1)}%`;
}
