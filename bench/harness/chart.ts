/**
 * bench/results/chart.svg: one horizontal bar per headline ratio on a log scale, the goal marked on
 * each bar. Written by hand (a few dozen SVG elements) rather than with a charting library: the
 * output is plain text, diffable and committed, and needs no browser or canvas to produce.
 */
import { fmt } from './report';
import type { Headline } from './types';

const W = 820;
const LABEL_W = 300;
const BAR_X0 = LABEL_W + 10;
const BAR_W = 440;
const ROW_H = 30;
const TOP = 58;
/** Log scale from 1/10,000x to 10x: W1 today is far below 0.01x, goals sit near 1x. */
const LOG_MIN = -4;
const LOG_MAX = 1;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** x of a ratio on the bar axis (clamped to the axis). */
export function xOf(v: number): number {
  const l = Math.min(LOG_MAX, Math.max(LOG_MIN, Math.log10(Math.max(v, 10 ** LOG_MIN))));
  return BAR_X0 + ((l - LOG_MIN) / (LOG_MAX - LOG_MIN)) * BAR_W;
}

/** The SVG document. `subtitle` says which run (date, mode, machine). */
export function renderChart(headline: readonly Headline[], subtitle: string): string {
  const h = TOP + headline.length * ROW_H + 46;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${h}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">rae-scheduler beside its ceilings and peers (ratios measured in the same run; higher is better)</text>`,
    `<text x="10" y="38" fill="#555555">${esc(subtitle)}</text>`,
  ];
  for (let e = LOG_MIN; e <= LOG_MAX; e++) {
    const x = xOf(10 ** e).toFixed(1);
    parts.push(`<line x1="${x}" y1="${TOP - 6}" x2="${x}" y2="${TOP + headline.length * ROW_H}" stroke="#dddddd"/>`);
    parts.push(`<text x="${x}" y="${TOP + headline.length * ROW_H + 16}" text-anchor="middle" fill="#555555">${fmt(10 ** e)}x</text>`);
  }
  headline.forEach((b, i) => {
    const y = TOP + i * ROW_H;
    const color = b.met === null ? '#8c8c8c' : b.met ? '#2e8b57' : '#c0392b';
    parts.push(`<text x="${LABEL_W}" y="${y + 18}" text-anchor="end">${esc(b.label)}</text>`);
    if (b.value === null) {
      parts.push(`<text x="${BAR_X0 + 4}" y="${y + 18}" fill="#c0392b">no figure (see the table)</text>`);
    } else {
      const x1 = xOf(b.value);
      parts.push(`<rect x="${BAR_X0}" y="${y + 6}" width="${Math.max(1, x1 - BAR_X0).toFixed(1)}" height="16" fill="${color}"/>`);
      parts.push(`<text x="${(x1 + 4).toFixed(1)}" y="${y + 18}">${b.value < 10 ** LOG_MIN ? '&lt;' : ''}${esc(fmt(b.value))}x</text>`);
    }
    if (b.goal !== null) {
      const xg = xOf(b.goal).toFixed(1);
      parts.push(`<line x1="${xg}" y1="${y + 2}" x2="${xg}" y2="${y + 26}" stroke="#000000" stroke-width="2" stroke-dasharray="3,2"/>`);
    }
  });
  const ly = TOP + headline.length * ROW_H + 34;
  parts.push(`<line x1="${BAR_X0}" y1="${ly - 4}" x2="${BAR_X0 + 14}" y2="${ly - 4}" stroke="#000000" stroke-width="2" stroke-dasharray="3,2"/>`);
  parts.push(`<text x="${BAR_X0 + 20}" y="${ly}" fill="#555555">goal · green: met · red: not met · grey: no goal · log scale</text>`);
  parts.push('</svg>', '');
  return parts.join('\n');
}
