// One job: its spec, the next fires on a small timeline, `why` in plain words, its history with each
// run's output, and run now / pause / resume / remove (remove asks first).
import { html, useEffect, useState } from './vendor/htm-preact.mjs';
import { del, enc, get, post } from './api.js';
import { duration, relative, scheduleInWords, statusBadge } from './format.js';

function Timeline({ next }) {
  if (next.length === 0) return html`<p class="muted">no upcoming fires (event-only schedule, paused or done)</p>`;
  const t0 = Date.now();
  const span = Math.max(1, new Date(next[next.length - 1]).getTime() - t0);
  return html`<div class="timeline" data-testid="timeline">
    <div class="line"></div>
    ${next.map((iso) => {
      const x = ((new Date(iso).getTime() - t0) / span) * 100;
      return html`<span class="tick" style=${`left:${Math.max(0, Math.min(100, x)).toFixed(1)}%`} title=${iso}></span>`;
    })}
    <div class="ends"><span>now</span><span>${relative(next[next.length - 1])}</span></div>
  </div>`;
}

function Run({ run }) {
  const [open, setOpen] = useState(false);
  return html`<li class="run" data-run=${run.id}>
    <div class="run-head" onClick=${() => setOpen(!open)}>
      ${statusBadge(run.status)} <span>${run.trigger}</span> <span class="muted">attempt ${run.attempt}</span>
      <span>${relative(run.startedAt ?? run.scheduledAt)}</span> <span>${duration(run.durationMs)}</span>
      <span class="muted">${run.exitCode === null ? '' : `exit ${run.exitCode}`}${run.error ? ` · ${run.error}` : ''}</span>
    </div>
    ${open || run.output ? html`<pre class="output" data-testid="output">${run.output || '(no output)'}</pre>` : null}
  </li>`;
}

/** The job page. `version` changes when an event touched this job (reload). */
export function JobPage({ jobId, version, readOnly, onClose, onRemoved }) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState('');
  const ref = enc(jobId);
  const load = async () => {
    try {
      const [job, why, next, runs] = await Promise.all([
        get(`/jobs/${ref}`), get(`/jobs/${ref}/why`), get(`/jobs/${ref}/next?count=10`), get(`/jobs/${ref}/history?limit=20`),
      ]);
      setData({ job, why, next: next.next, runs });
      setError(null);
    } catch (e) {
      setError(e.message);
    }
  };
  useEffect(() => { void load(); }, [jobId, version]);
  const act = async (what, fn) => {
    setBusy(what);
    try {
      await fn();
      await load();
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy('');
    }
  };
  if (error && !data) return html`<section class="job"><p class="error">${error}</p><button onClick=${onClose}>close</button></section>`;
  if (!data) return html`<section class="job"><p class="muted">loading…</p></section>`;
  const { job, why, next, runs } = data;
  const paused = !job.enabled;
  return html`<section class="job" data-testid="job-page" data-job=${job.name}>
    <header>
      <h2>${job.name} <span class=${`st-${job.state}`} data-testid="job-state">${job.state}</span></h2>
      <button class="link" onClick=${onClose} title="back to the list">✕</button>
    </header>
    <p>${scheduleInWords(job.schedule, job.timezone)} · next run ${relative(job.nextRunAt)}</p>
    ${error ? html`<p class="error">${error}</p>` : null}
    ${readOnly ? html`<p class="muted">read-only session</p>` : html`<div class="actions">
      <button data-action="run" disabled=${busy !== ''} onClick=${() => act('run', () => post(`/jobs/${ref}/run`))}>Run now</button>
      ${paused
        ? html`<button data-action="resume" disabled=${busy !== ''} onClick=${() => act('resume', () => post(`/jobs/${ref}/resume`))}>Resume</button>`
        : html`<button data-action="pause" disabled=${busy !== ''} onClick=${() => act('pause', () => post(`/jobs/${ref}/pause`))}>Pause</button>`}
      ${confirming
        ? html`<span class="confirm">Remove ${job.name} and its history?
            <button class="danger" data-action="confirm-remove" onClick=${async () => {
              try { await del(`/jobs/${ref}`); onRemoved(job.id); } catch (e) { setError(e.message); }
            }}>Yes, remove</button>
            <button onClick=${() => setConfirming(false)}>Cancel</button></span>`
        : html`<button class="danger" data-action="remove" onClick=${() => setConfirming(true)}>Remove…</button>`}
    </div>`}
    <h3>Next fires</h3>
    <${Timeline} next=${next} />
    <h3>Why</h3>
    <div data-testid="why">
      ${why.blockers.length === 0 ? html`<p>Nothing blocks it.</p>`
        : html`<ul>${why.blockers.map((b) => html`<li>${b}</li>`)}</ul>`}
      ${why.slots.length > 0 ? html`<table class="slots"><tr><th>slot</th><th>outcome</th><th>reason</th></tr>
        ${why.slots.slice(0, 10).map((s) => html`<tr><td title=${s.at}>${relative(s.at)}</td><td>${s.outcome}</td><td>${s.reason ?? ''}</td></tr>`)}
      </table>` : null}
    </div>
    <h3>History</h3>
    <ul class="runs" data-testid="history">${runs.length === 0 ? html`<li class="muted">no runs yet</li>` : runs.map((r) => html`<${Run} key=${r.id} run=${r} />`)}</ul>
    <h3>Spec</h3>
    <pre class="spec">${JSON.stringify({ ...job, lastRun: undefined }, null, 2)}</pre>
  </section>`;
}
