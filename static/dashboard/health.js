// Health and stats: components, counts, durations, queue depth and running over time, restarts and
// fire lateness (from the Prometheus histogram) as simple charts.
import { html } from './vendor/htm-preact.mjs';
import { bars, duration, sparkline } from './format.js';

/** Buckets of `rae_fire_lateness_seconds` from the metrics text: [[label, count in that bucket]]. */
export function latenessBuckets(metricsText) {
  const rows = [];
  for (const m of metricsText.matchAll(/^rae_fire_lateness_seconds_bucket\{le="([^"]+)"\} (\d+(?:\.\d+)?)/gm)) {
    rows.push([m[1], Number(m[2])]);
  }
  // Cumulative counts at a few edges → counts per coarse bucket (readable as five bars).
  const at = (le) => rows.filter(([x]) => x !== '+Inf' && Number(x) <= le).pop()?.[1] ?? 0;
  const total = rows.find(([x]) => x === '+Inf')?.[1] ?? 0;
  const edges = [[0.01, '≤10ms'], [0.1, '≤100ms'], [1, '≤1s'], [10, '≤10s']];
  const out = [];
  let prev = 0;
  for (const [le, label] of edges) {
    const n = at(le);
    out.push([label, n - prev]);
    prev = n;
  }
  out.push(['>10s', total - prev]);
  return total === 0 ? [] : out;
}

/** The side panel. `samples` is the recent [queue depth, running] series, oldest first. */
export function HealthPanel({ health, stats, samples, lateness, live }) {
  if (!health || !stats) return html`<aside class="health"><p class="muted">loading…</p></aside>`;
  const r = stats.runs;
  return html`<aside class="health" data-testid="health">
    <h3>Health <span class=${health.healthy ? 'ok' : 'bad'}>${health.healthy ? 'healthy' : 'unhealthy'}</span>${' '}
      <span class=${live ? 'ok dot' : 'bad dot'} title=${live ? 'live events connected' : 'live events disconnected'} data-testid="live">●</span></h3>
    <ul class="components">${Object.entries(health.components).map(([name, c]) =>
      html`<li><span class=${c.healthy ? 'ok' : 'bad'}>●</span> ${name}${c.restarts ? ` (${c.restarts} restarts)` : ''}${c.detail ? html` <span class="muted">${c.detail}</span>` : null}</li>`)}</ul>
    <h3>Jobs</h3>
    <p>${stats.jobs.total} total · ${stats.jobs.enabled} enabled · ${stats.jobs.paused} paused · ${stats.jobs.done} done</p>
    <h3>Runs</h3>
    <p>${r.total} total · success ${r.successRate === null ? '-' : `${Math.round(r.successRate * 100)}%`}</p>
    ${bars([['ok', r.succeeded], ['failed', r.failed], ['timeout', r.timeout], ['killed', r.killed], ['interr.', r.interrupted], ['skipped', r.skipped]])}
    <p>duration p50 ${duration(stats.durationMs.p50)} · p90 ${duration(stats.durationMs.p90)} · p99 ${duration(stats.durationMs.p99)}</p>
    <h3>Queue</h3>
    <p>${stats.queue.depth} waiting · ${stats.queue.running} running · ${stats.queue.scheduled} scheduled</p>
    <div class="series"><span class="muted">waiting</span> ${sparkline(samples.map((s) => s[0]), { width: 180, height: 28, title: 'queue depth' })}</div>
    <div class="series"><span class="muted">running</span> ${sparkline(samples.map((s) => s[1]), { width: 180, height: 28, title: 'running runs' })}</div>
    <h3>Fire lateness</h3>
    ${lateness.length === 0 ? html`<p class="muted">no fires yet</p>` : bars(lateness, { width: 260, height: 50 })}
    <h3>Restarts</h3>
    <p>${Object.keys(stats.restarts).length === 0 ? 'none' : Object.entries(stats.restarts).map(([a, n]) => `${a}: ${n}`).join(' · ')}</p>
  </aside>`;
}
