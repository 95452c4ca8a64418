// The rae-sched dashboard: plain ES modules and a vendored Preact+htm (static/dashboard/vendor), no
// build step. Opened through `rae-sched dashboard`, which prints a one-time login link.
import { html, render, useEffect, useRef, useState } from './vendor/htm-preact.mjs';
import { get, jobPage, liveEvents, openSession } from './api.js';
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

/** What an event is about, in a few words. */
function describe(e, jobs) {
  const name = (id) => jobs.find((j) => j.id === id)?.name ?? id;
  if (e.job) return e.job.name;
  if (e.run) return `${name(e.run.jobId)} ${e.run.status}${e.run.exitCode !== null && e.run.exitCode !== undefined ? ` (exit ${e.run.exitCode})` : ''}`;
  if (e.slot) return `${name(e.slot.jobId)} slot ${e.slot.outcome}`;
  return e.name ?? e.actor ?? '';
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
    return () => clearInterval(t);
  }, []);

  // Counts change with runs and jobs: refresh them soon after such an event (once per burst).
  const soon = useRef(null);
  const refreshSoon = () => {
    if (soon.current === null) soon.current = setTimeout(() => { soon.current = null; void poll(); }, 500);
  };

  useEffect(() => liveEvents({
    onState: setLive,
    onGap: () => { void reload(); },
    onEvent: (ev) => {
      setEvents((old) => [ev, ...old].slice(0, 50));
      if (ev.type === 'run.finished' || ev.type.startsWith('job.')) refreshSoon();
      const bump = (id) => setVersions((v) => new Map(v).set(id, (v.get(id) ?? 0) + 1));
      if (ev.type === 'job.added') {
        setList((l) => (l.next === null && !filter.q && !filter.state && !l.jobs.some((j) => j.id === ev.job.id)
          ? { ...l, jobs: [...l.jobs, ev.job], total: l.total === null ? null : l.total + 1 } : l));
      } else if (ev.type === 'job.updated') {
        setList((l) => ({ ...l, jobs: l.jobs.map((j) => (j.id === ev.job.id ? ev.job : j)) }));
        bump(ev.job.id);
      } else if (ev.type === 'job.removed') {
        setList((l) => ({ ...l, jobs: l.jobs.filter((j) => j.id !== ev.jobId), total: l.total === null ? null : Math.max(0, l.total - 1) }));
      } else if (ev.type === 'run.started' || ev.type === 'run.finished') {
        setList((l) => ({ ...l, jobs: l.jobs.map((j) => (j.id === ev.run.jobId ? { ...j, lastRun: ev.run } : j)) }));
        if (ev.type === 'run.finished') invalidateRecent(ev.run.jobId);
        bump(ev.run.jobId);
      }
    },
  }), [filter.q, filter.state]);

  return html`<div class="layout">
    <header class="top">
      <h1>rae-sched</h1>
      <input type="search" placeholder="search name, schedule, command" value=${q} data-testid="search"
        onInput=${(e) => setQ(e.target.value)} />
      <select value=${state} onChange=${(e) => setState(e.target.value)} data-testid="state-filter">
        ${STATES.map((s) => html`<option value=${s}>${s === '' ? 'all states' : s}</option>`)}
      </select>
      ${session.readOnly ? html`<span class="muted">read-only</span>` : null}
    </header>
    <main>
      <div class="left">
        ${open
          ? html`<${JobPage} jobId=${open} version=${versions.get(open) ?? 0} readOnly=${session.readOnly}
              onClose=${() => setOpen(null)} onRemoved=${() => { setOpen(null); void reload(); }} />`
          : html`<${JobTable} jobs=${list.jobs} total=${list.total} hasMore=${list.next !== null} onOpen=${setOpen} onMore=${more} versions=${versions} />`}
        <section class="events">
          <h3>Live events</h3>
          <ul data-testid="events">${events.map((e) => html`<li><span class="muted">${e.at.slice(11, 19)}</span>${' '}
            <b>${e.type}</b>${' '}${describe(e, list.jobs)}</li>`)}</ul>
        </section>
      </div>
      <${HealthPanel} health=${health} stats=${stats} samples=${samples} lateness=${lateness} live=${live} />
    </main>
  </div>`;
}

function Login() {
  return html`<div class="login" data-testid="login">
    <h1>rae-sched</h1>
    <p>Not logged in. On the machine running the daemon, run</p>
    <pre>rae-sched dashboard</pre>
    <p>and open the one-time link it prints.</p>
  </div>`;
}

// A login link opened in a tab that already shows the page changes only the fragment: start over.
window.addEventListener('hashchange', () => {
  if (/(?:^#|&)code=/.test(location.hash)) location.reload();
});

const root = document.getElementById('app');
openSession().then(
  (s) => render(s.ok ? html`<${App} session=${s} />` : html`<${Login} />`, root),
  () => render(html`<${Login} />`, root),
);
