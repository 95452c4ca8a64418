// The rae-sched dashboard: plain ES modules and a vendored Preact+htm (static/dashboard/vendor), no
// build step. Opened through `rae-sched dashboard`, which prints a one-time login link.
import { html, render, useEffect, useMemo, useRef, useState } from './vendor/htm-preact.mjs';
import { get, jobPage, liveEvents, logout, openSession } from './api.js';
import { HealthPanel, latenessBuckets } from './health.js';
import { JobPage } from './job.js';
import { JobTable, invalidateRecent } from './jobs.js';

const STATES = ['', 'scheduled', 'paused', 'waiting', 'done'];

function useJobs(filter) {
  const [list, setList] = useState({ jobs: [], next: null, total: 0, loading: true });
  const loading = useRef(false);
  const load = async (after) => {
    if (loading.current) return;
    loading.current = true;
    try {
      const page = await jobPage({ ...filter, after });
      setList((l) => {
        const jobs = after ? [...l.jobs, ...page.items] : page.items;
        return { jobs, next: page.next, total: page.total ?? (page.next === null ? jobs.length : null), loading: false };
      });
    } finally {
      loading.current = false;
    }
  };
  useEffect(() => { void load(null); }, [filter.q, filter.state]);
  return { list, setList, more: () => list.next && load(list.next), reload: () => load(null) };
}

/** What an event is about, in a few words (worked out once, when it arrives). */
function describe(e, name) {
  if (e.job) return e.job.name;
  if (e.run) return `${name(e.run.jobId)} ${e.run.status}${e.run.exitCode !== null && e.run.exitCode !== undefined ? ` (exit ${e.run.exitCode})` : ''}`;
  if (e.slot) return `${name(e.slot.jobId)} slot ${e.slot.outcome}`;
  return e.name ?? e.actor ?? '';
}

/** How long live events are gathered before the page applies them: one render per burst, not per event. */
const EVENT_BATCH_MS = 100;

/**
 * Applies a batch of events to the loaded list in one pass over it (a burst of 1,000 events on a
 * list of 10,000 jobs is one map, not 1,000).
 */
function applyEvents(l, batch, filtered) {
  const updated = new Map();
  const removed = new Set();
  const added = [];
  let delta = 0;
  for (const ev of batch) {
    if (ev.type === 'job.added') {
      if (l.next === null && !filtered) { added.push(ev.job); delta++; }
    } else if (ev.type === 'job.updated') {
      updated.set(ev.job.id, { ...(updated.get(ev.job.id) ?? {}), job: ev.job });
    } else if (ev.type === 'job.removed') {
      removed.add(ev.jobId);
      delta--;
    } else if (ev.type === 'run.started' || ev.type === 'run.finished') {
      updated.set(ev.run.jobId, { ...(updated.get(ev.run.jobId) ?? {}), lastRun: ev.run });
    }
  }
  if (updated.size === 0 && removed.size === 0 && added.length === 0) return l;
  const jobs = [];
  const seen = new Set();
  for (const j of l.jobs) {
    if (removed.has(j.id)) continue;
    seen.add(j.id);
    const u = updated.get(j.id);
    jobs.push(u === undefined ? j : { ...(u.job ?? j), ...(u.lastRun ? { lastRun: u.lastRun } : {}) });
  }
  for (const j of added) if (!seen.has(j.id) && !removed.has(j.id)) jobs.push(j);
  return { ...l, jobs, total: l.total === null ? null : Math.max(0, l.total + delta) };
}

function App({ session }) {
  const [q, setQ] = useState('');
  const [state, setState] = useState('');
  const [filter, setFilter] = useState({ q: '', state: '' });
  const { list, setList, more, reload } = useJobs(filter);
  const [open, setOpen] = useState(/^#job=(.+)$/.exec(location.hash)?.[1] ?? null);
  const [versions, setVersions] = useState(new Map());
  const [events, setEvents] = useState([]);
  const [live, setLive] = useState(false);
  const [health, setHealth] = useState(null);
  const [stats, setStats] = useState(null);
  const [lateness, setLateness] = useState([]);
  const [samples, setSamples] = useState([]);

  // Search as the user types, a moment after the last key.
  useEffect(() => {
    const t = setTimeout(() => setFilter({ q, state }), 250);
    return () => clearTimeout(t);
  }, [q, state]);

  useEffect(() => {
    history.replaceState(null, '', open ? `#job=${encodeURIComponent(open)}` : location.pathname);
  }, [open]);

  const poll = async () => {
    // A tab in the background does not keep the daemon busy; it catches up when shown again.
    if (document.hidden) return;
    try {
      const [h, s, m] = await Promise.all([get('/health'), get('/stats'), get('/metrics')]);
      setHealth(h);
      setStats(s);
      setLateness(latenessBuckets(m));
      setSamples((old) => [...old.slice(-59), [s.queue.depth, s.queue.running]]);
    } catch { /* shown as stale; the next poll retries */ }
  };
  useEffect(() => {
    void poll();
    const t = setInterval(poll, 5000);
    const shown = () => { if (!document.hidden) void poll(); };
    document.addEventListener('visibilitychange', shown);
    return () => { clearInterval(t); document.removeEventListener('visibilitychange', shown); };
  }, []);

  // Counts change with runs and jobs: refresh them soon after such an event (once per burst).
  const soon = useRef(null);
  const refreshSoon = () => {
    if (soon.current === null) soon.current = setTimeout(() => { soon.current = null; void poll(); }, 500);
  };

  // The filter as of now, for the event handler (one event stream for the page's life, not one per filter).
  const filterNow = useRef(filter);
  filterNow.current = filter;
  const reloadNow = useRef(reload);
  reloadNow.current = reload;

  // Names of the loaded jobs, for the event list (kept current without a pass per event).
  const names = useRef(new Map());
  names.current = useMemo(() => new Map(list.jobs.map((j) => [j.id, j.name])), [list.jobs]);

  useEffect(() => {
    let pending = [];
    let timer = null;
    const flush = () => {
      timer = null;
      const batch = pending;
      pending = [];
      const name = (id) => names.current.get(id) ?? id;
      setEvents((old) => [...batch.slice(-50).reverse().map((ev) => ({ ev, text: describe(ev, name) })), ...old].slice(0, 50));
      setList((l) => applyEvents(l, batch, filterNow.current.q !== '' || filterNow.current.state !== ''));
      const touched = new Set();
      for (const ev of batch) {
        if (ev.type === 'run.finished' || ev.type.startsWith('job.')) refreshSoon();
        if (ev.type === 'run.finished') invalidateRecent(ev.run.jobId);
        const id = ev.job?.id ?? ev.run?.jobId;
        if (id !== undefined && (ev.type === 'job.updated' || ev.type.startsWith('run.'))) touched.add(id);
      }
      if (touched.size > 0) {
        setVersions((v) => {
          const m = new Map(v);
          for (const id of touched) m.set(id, (m.get(id) ?? 0) + 1);
          return m;
        });
      }
    };
    const stop = liveEvents({
      onState: setLive,
      onGap: () => { void reloadNow.current(); },
      onEvent: (ev) => {
        pending.push(ev);
        if (timer === null) timer = setTimeout(flush, EVENT_BATCH_MS);
      },
    });
    return () => { clearTimeout(timer); stop(); };
  }, []);

  return html`<div class="layout">
    <header class="top">
      <h1>rae-sched</h1>
      <input type="search" placeholder="search name, schedule, command" value=${q} data-testid="search"
        onInput=${(e) => setQ(e.target.value)} />
      <select value=${state} onChange=${(e) => setState(e.target.value)} data-testid="state-filter">
        ${STATES.map((s) => html`<option value=${s}>${s === '' ? 'all states' : s}</option>`)}
      </select>
      ${session.readOnly ? html`<span class="muted">read-only</span>` : null}
      <button class="logout" data-action="logout" onClick=${() => logout().then(() => window.dispatchEvent(new Event('rae-logged-out')))}>Log out</button>
    </header>
    <main>
      <div class="left">
        ${open
          ? html`<${JobPage} jobId=${open} version=${versions.get(open) ?? 0} readOnly=${session.readOnly}
              onClose=${() => setOpen(null)} onRemoved=${() => { setOpen(null); void reload(); }} />`
          : html`<${JobTable} jobs=${list.jobs} total=${list.total} hasMore=${list.next !== null} onOpen=${setOpen} onMore=${more} versions=${versions}
              jobsInStore=${stats?.jobs.total ?? null} />`}
        <section class="events">
          <h3>Live events</h3>
          <ul data-testid="events">${events.map(({ ev, text }) => html`<li><span class="muted">${ev.at.slice(11, 19)}</span>${' '}
            <b>${ev.type}</b>${' '}${text}</li>`)}</ul>
        </section>
      </div>
      <${HealthPanel} health=${health} stats=${stats} samples=${samples} lateness=${lateness} live=${live} />
    </main>
  </div>`;
}

function Login({ ended }) {
  return html`<div class="login" data-testid="login">
    <h1>rae-sched</h1>
    <p>${ended ? 'The session has ended (logged out, expired or revoked).' : 'Not logged in.'} On the machine running the daemon, run</p>
    <pre>rae-sched dashboard</pre>
    <p>and open the one-time link it prints.</p>
  </div>`;
}

// A login link opened in a tab that already shows the page changes only the fragment: start over.
window.addEventListener('hashchange', () => {
  if (/(?:^#|&)code=/.test(location.hash)) location.reload();
});

const root = document.getElementById('app');
let loggedIn = false;
window.addEventListener('rae-logged-out', () => {
  if (!loggedIn) return;
  loggedIn = false;
  render(html`<${Login} ended=${true} />`, root);
});
openSession().then(
  (s) => { loggedIn = s.ok; return s; },
).then(
  (s) => render(s.ok ? html`<${App} session=${s} />` : html`<${Login} />`, root),
  () => render(html`<${Login} />`, root),
);
