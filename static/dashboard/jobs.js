// The jobs list: filter and search (answered by the daemon, page by page), a virtualised table
// (only the rows on screen are in the DOM, so 10,000 jobs scroll smoothly), and per-row recent runs
// (success rate, sparkline of durations) fetched for the rows on screen only, once scrolling has
// settled — a fling through 10,000 rows does not ask for the history of every row it passes.
import { html, useEffect, useRef, useState } from './vendor/htm-preact.mjs';
import { enc, get } from './api.js';
import { relative, scheduleInWords, sparkline, statusBadge } from './format.js';

const ROW = 34;
/** Scrolling has settled this long after the last scroll event: then rows fetch their recent runs. */
const SETTLE_MS = 150;
const recentCache = new Map();

// Recent-runs requests go through a small queue, at most two at a time, and a row that leaves the
// screen drops its queued request: the browser's six connections stay free for what the user asked
// for (a search, a page of jobs), which would otherwise wait behind the history of every row on screen.
const MAX_IN_FLIGHT = 2;
const queue = [];
let inFlight = 0;
function pump() {
  while (inFlight < MAX_IN_FLIGHT && queue.length > 0) {
    const entry = queue.shift();
    if (entry.cancelled) continue;
    inFlight++;
    entry.task().finally(() => { inFlight--; pump(); });
  }
}
function enqueue(task) {
  const entry = { task, cancelled: false };
  queue.push(entry);
  pump();
  return () => { entry.cancelled = true; };
}

/** Forgets a job's cached recent runs (a run of it finished). */
export function invalidateRecent(jobId) {
  recentCache.delete(jobId);
}

function useRecent(jobId, version, settled) {
  const [recent, setRecent] = useState(recentCache.get(jobId) ?? null);
  useEffect(() => {
    let live = true;
    const cached = recentCache.get(jobId);
    if (cached) {
      setRecent(cached);
      return undefined;
    }
    if (!settled) return undefined;
    const cancel = enqueue(() => get(`/jobs/${enc(jobId)}/history?limit=20&output=false`).then((runs) => {
      const done = runs.filter((r) => r.finishedAt !== null);
      const ok = done.filter((r) => r.status === 'succeeded').length;
      const value = {
        rate: done.length === 0 ? null : ok / done.length,
        durations: done.map((r) => r.durationMs).reverse(),
      };
      recentCache.set(jobId, value);
      if (live) setRecent(value);
    }, () => undefined));
    return () => { live = false; cancel(); };
  }, [jobId, version, settled]);
  return recent;
}

function JobRow({ job, top, onOpen, version, settled }) {
  const recent = useRecent(job.id, version, settled);
  const last = job.lastRun;
  return html`<div class="row" role="row" style=${`top:${top}px`} data-job=${job.name} onClick=${() => onOpen(job.id)}>
    <span class="c-name" title=${job.name}>${job.name}</span>
    <span class="c-sched" title=${job.schedule}>${scheduleInWords(job.schedule, job.timezone)}</span>
    <span class=${`c-state st-${job.state}`}>${job.state}</span>
    <span class="c-next" title=${job.nextRunAt ?? ''}>${relative(job.nextRunAt)}</span>
    <span class="c-last">${statusBadge(last?.status)}</span>
    <span class="c-rate">${recent?.rate === null || recent === null ? '-' : `${Math.round(recent.rate * 100)}%`}</span>
    <span class="c-spark">${sparkline(recent?.durations ?? [], { title: 'durations of recent runs' })}</span>
  </div>`;
}

/**
 * The virtualised table. `jobs` is what is loaded so far; `onMore` loads the next page when the
 * user scrolls near the end.
 */
export function JobTable({ jobs, total, hasMore, onOpen, onMore, versions, jobsInStore }) {
  const box = useRef(null);
  const [scroll, setScroll] = useState({ top: 0, height: 600, settled: true });
  useEffect(() => {
    const el = box.current;
    let timer = null;
    let frame = null;
    // One render per animation frame however many scroll events arrive, and `settled` once idle.
    const update = () => {
      if (frame === null) {
        frame = requestAnimationFrame(() => {
          frame = null;
          setScroll({ top: el.scrollTop, height: el.clientHeight, settled: false });
        });
      }
      clearTimeout(timer);
      timer = setTimeout(() => setScroll({ top: el.scrollTop, height: el.clientHeight, settled: true }), SETTLE_MS);
    };
    setScroll({ top: el.scrollTop, height: el.clientHeight, settled: true });
    el.addEventListener('scroll', update, { passive: true });
    window.addEventListener('resize', update);
    return () => {
      clearTimeout(timer);
      if (frame !== null) cancelAnimationFrame(frame);
      el.removeEventListener('scroll', update);
      window.removeEventListener('resize', update);
    };
  }, []);
  const first = Math.max(0, Math.floor(scroll.top / ROW) - 5);
  const last = Math.min(jobs.length, Math.ceil((scroll.top + scroll.height) / ROW) + 5);
  useEffect(() => {
    if (last >= jobs.length - 20 && hasMore) onMore();
  }, [last, jobs.length, hasMore]);
  return html`<div class="table" role="table" data-testid="jobs">
    <div class="row head" role="row">
      <span class="c-name">name</span><span class="c-sched">schedule</span><span class="c-state">state</span>
      <span class="c-next">next run</span><span class="c-last">last</span><span class="c-rate">success</span>
      <span class="c-spark">recent durations</span>
    </div>
    <div class="rows" ref=${box}>
      <div style=${`height:${jobs.length * ROW}px;position:relative`}>
        ${jobs.slice(first, last).map((job, i) => html`<${JobRow} key=${job.id} job=${job} top=${(first + i) * ROW}
          onOpen=${onOpen} version=${versions.get(job.id) ?? 0} settled=${scroll.settled} />`)}
      </div>
    </div>
    <div class="muted count" data-testid="job-count">${total === null
      ? `${jobs.length} of ${jobsInStore ?? '?'} jobs loaded, more below` : `${jobs.length} of ${total} job${total === 1 ? '' : 's'} shown`}</div>
  </div>`;
}
