/**
 * Pure rendering of a run's results: numbers as people read them, the terminal table, and
 * bench/results/latest.md. No I/O here (bench/harness/results.ts writes the files).
 */
import { table } from '../../src/cli/format';
import type { Headline, MeasurementResult, Mode, Row, Summary } from './types';

/** The machine and the run, as recorded in latest.json and printed at the top of latest.md. */
export interface RunInfo {
  mode: Mode;
  /** Workloads run (all of them unless `--only`). */
  workloads: string[];
  complete: boolean;
  date: string;
  durationMs: number;
  node: string;
  platform: string;
  cpus: number;
  cpuModel: string | null;
  memTotalMb: number;
  loadavgStart: number[];
  loadavgEnd: number[];
  commit: string | null;
  reps: number | null;
}

/** Everything a run produced: latest.json is exactly this. */
export interface ResultsDocument {
  benchmark: 'rae-scheduler';
  info: RunInfo;
  rows: Row[];
  headline: Headline[];
  measurements: MeasurementResult[];
}

/**
 * A number as people read it: thousands separated from 1,000 up, 1 decimal from 10, 2 significant
 * digits below 1; `—` for a missing value.
 * @example fmt(12345.6) // '12,346'   fmt(0.000234) // '0.00023'
 */
export function fmt(v: number | null | undefined): string {
  if (v == null || Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return String(Math.round(v));
  if (a >= 10) return String(Math.round(v * 10) / 10);
  if (a >= 1) return String(Math.round(v * 100) / 100);
  if (a === 0) return '0';
  return String(Number(v.toPrecision(2)));
}

/** `0.43x`; `—` when missing. */
export const fmtRatio = (r: number | null): string => (r === null ? '—' : `${fmt(r)}x`);

/**
 * A median with its spread: `12,346 jobs/s ±8%` (± = half the range of the repetitions, relative
 * to the median; omitted for one repetition or no spread).
 */
export function fmtSummary(s: Summary | undefined | null, unit = ''): string {
  if (s == null) return 'failed';
  const u = unit === '' ? '' : unit.startsWith('/') || unit === '%' ? unit : ` ${unit}`;
  const half = s.spread / 2;
  const pct = half * 100;
  const spread = s.n > 1 && half > 0 ? ` ±${pct >= 1000 ? '>999' : pct < 1 ? '<1' : Math.round(pct)}%` : '';
  return `${fmt(s.median)}${u}${spread}`;
}

/** `met`, `NOT met` or `—`. */
export const metText = (m: boolean | null): string => (m === null ? '—' : m ? 'met' : 'NOT met');

const HEAD = ['workload', 'measurement', 'rae-scheduler', 'beside it (same run)', 'ratio', 'goal', 'met'];

function cells(r: Row): string[] {
  return [r.workload, r.what, r.rae, r.beside, fmtRatio(r.ratio), r.goal ?? '—', metText(r.met)];
}

/** The table for the terminal (aligned columns), with the rows' notes under it. */
export function renderText(doc: ResultsDocument): string {
  const lines = [table(HEAD, doc.rows.map(cells))];
  const notes = doc.rows.filter((r) => r.note !== undefined).map((r) => `  ${r.workload} ${r.what}: ${r.note}`);
  if (notes.length > 0) lines.push('', 'notes:', ...notes);
  return lines.join('\n');
}

/** Markdown cell text: pipes escaped, no newlines. */
const md = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A markdown table. */
export function markdownTable(head: string[], rows: string[][]): string {
  return [
    `| ${head.map(md).join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(md).join(' | ')} |`),
  ].join('\n');
}

const minutes = (ms: number): string => `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' / ');

/** bench/results/latest.md: the run, the machine, the table, then every measurement's medians. */
export function renderMarkdown(doc: ResultsDocument): string {
  const i = doc.info;
  const out: string[] = [
    '# rae-scheduler benchmark: latest run',
    '',
    `\`npm run bench${i.mode === 'quick' ? ' -- --quick' : ''}\`${i.complete ? '' : ` (only ${i.workloads.join(', ')})`}` +
      `${i.reps !== null ? `, ${i.reps} repetitions` : ''} · ${i.date} · ${minutes(i.durationMs)}${i.commit ? ` · commit ${i.commit.slice(0, 10)}` : ''}`,
    '',
    `Machine: ${i.cpus} × ${i.cpuModel ?? 'unknown CPU'}, ${fmt(i.memTotalMb / 1024)} GB RAM, ${i.platform}, node ${i.node}; ` +
      `load average (1 / 5 / 15 min) ${load(i.loadavgStart)} at the start, ${load(i.loadavgEnd)} at the end. ` +
      'The machine is shared: absolute figures move between runs; the ratios within one run are the figures to quote.',
    '',
    markdownTable(HEAD, doc.rows.map(cells)),
    '',
    'Figures are medians over the repetitions; ± is half their range relative to the median. ' +
      'ratio = rae-scheduler ÷ the figure beside it (for lateness and times: as stated in the row). See bench/README.md.',
  ];
  const notes = doc.rows.filter((r) => r.note !== undefined);
  if (notes.length > 0) {
    out.push('', '## Notes', '', ...notes.map((r) => `- **${md(r.workload)} ${md(r.what)}**: ${r.note}`));
  }
  out.push('', '## Every measurement', '', markdownTable(
    ['id', 'role', 'what', 'reps', 'medians (min–max)', 'errors / notes'],
    doc.measurements.map((m) => [
      m.id, m.role, m.label, `${m.samples.length}/${m.samples.length + m.errors.length}`,
      Object.entries(m.summary).map(([k, s]) => `${k} ${fmt(s.median)}${s.n > 1 ? ` (${fmt(s.min)}–${fmt(s.max)})` : ''}`).join('; '),
      [...m.errors.map((e) => `error: ${e}`), ...m.notes].join('; ') || '—',
    ]),
  ), '');
  return out.join('\n');
}
