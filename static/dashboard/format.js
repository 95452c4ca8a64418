// How the dashboard words things: schedules, relative times, durations, statuses, small charts.
import { html } from './vendor/htm-preact.mjs';

const DOW = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const pad = (n) => String(n).padStart(2, '0');

/** A schedule in words: English schedules are already words; common cron shapes are put into words. */
export function scheduleInWords(schedule, tz) {
  const zone = tz ? ` (${tz})` : '';
  const f = schedule.trim().split(/\s+/);
  if (f.length !== 5 && f.length !== 6) return schedule + zone;
  const [sec, min, hour, dom, mon, dow] = f.length === 6 ? f : ['0', ...f];
  const any = (x) => x === '*';
  const step = (x) => /^\*\/(\d+)$/.exec(x)?.[1];
  const num = (x) => /^\d+$/.test(x);
  let words = null;
  if (f.length === 6 && step(sec) && any(min) && any(hour)) words = `every ${step(sec)} seconds`;
  else if (sec === '0' && step(min) && any(hour) && any(dom) && any(mon) && any(dow)) words = `every ${step(min)} minutes`;
  else if (sec === '0' && any(min) && any(hour) && any(dom) && any(mon) && any(dow)) words = 'every minute';
  else if (sec === '0' && num(min) && any(hour) && any(dom) && any(mon) && any(dow)) words = `hourly at :${pad(min)}`;
  else if (sec === '0' && num(min) && num(hour) && any(mon)) {
    const at = `${pad(hour)}:${pad(min)}`;
    if (any(dom) && any(dow)) words = `every day at ${at}`;
    else if (any(dom) && (dow === '1-5' || /^mon-fri$/i.test(dow))) words = `every weekday at ${at}`;
    else if (any(dom) && /^\d$/.test(dow)) words = `every ${DOW[Number(dow) % 7]} at ${at}`;
    else if (num(dom) && any(dow)) words = `on day ${dom} of every month at ${at}`;
  }
  return words === null ? `${schedule}${zone} (cron)` : `${words}${zone}`;
}

/** "in 4m", "3h ago", "now". */
export function relative(iso, now = Date.now()) {
  if (!iso) return '-';
  const d = new Date(iso).getTime() - now;
  const a = Math.abs(d);
  const s = a < 1500 ? 'now'
    : a < 60_000 ? `${Math.round(a / 1000)}s`
      : a < 3_600_000 ? `${Math.round(a / 60_000)}m`
        : a < 86_400_000 ? `${Math.round(a / 3_600_000)}h` : `${Math.round(a / 86_400_000)}d`;
  if (s === 'now') return s;
  return d > 0 ? `in ${s}` : `${s} ago`;
}

/** "36ms", "1.2s", "4m 05s". */
export function duration(ms) {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m ${pad(Math.round((ms % 60_000) / 1000))}s`;
}

/** A run status as a coloured badge. */
export function statusBadge(status) {
  if (!status) return html`<span class="badge none">-</span>`;
  return html`<span class=${`badge s-${status}`} data-status=${status}>${status}</span>`;
}

/** A sparkline of values (oldest first) as inline SVG. */
export function sparkline(values, { width = 90, height = 20, title = '' } = {}) {
  const v = values.filter((x) => typeof x === 'number');
  if (v.length === 0) return html`<svg class="spark" width=${width} height=${height}><title>${title}</title></svg>`;
  // One run: a dot (a line needs two).
  if (v.length === 1) return html`<svg class="spark" width=${width} height=${height}><title>${title}</title><circle cx="3" cy=${height / 2} r="2" /></svg>`;
  const max = Math.max(...v) || 1;
  const pts = v.map((x, i) => `${((i / (v.length - 1)) * (width - 2) + 1).toFixed(1)},${(height - 1 - (x / max) * (height - 2)).toFixed(1)}`);
  return html`<svg class="spark" width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`}>
    <title>${title}</title><polyline points=${pts.join(' ')} /></svg>`;
}

/** Bars of labelled counts as inline SVG. */
export function bars(entries, { width = 260, height = 70 } = {}) {
  const max = Math.max(1, ...entries.map(([, n]) => n));
  const w = width / Math.max(1, entries.length);
  return html`<svg class="bars" width=${width} height=${height + 14}>
    ${entries.map(([label, n], i) => {
      const h = (n / max) * height;
      return html`<g><rect x=${i * w + 2} y=${height - h} width=${w - 4} height=${h}><title>${label}: ${n}</title></rect>
        <text x=${i * w + w / 2} y=${height + 11} text-anchor="middle">${label}</text></g>`;
    })}
  </svg>`;
}
