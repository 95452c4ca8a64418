/**
 * The dashboard with many jobs, against itself with few: one real daemon
 * (`bin/rae-sched daemon --http 127.0.0.1:0`) and one headless Chromium, measured first with a
 * baseline store (default 10 jobs) and then with a big one (default 10,000 jobs), in the same run:
 *
 * - API: one page of jobs as the dashboard asks for it, a search, `/v1/stats` and `/v1/metrics`
 *   (polled by the page), beside `GET /v1/health` (the floor of one request to the daemon);
 * - browser: time from opening the login link to the first rows, the frame after a scroll step
 *   (in-page timing), the time to scroll until every job is loaded, a search and a state filter
 *   (from the input event to the rows shown, including the page's 250 ms typing debounce), the page's
 *   script time per live event during a burst of job updates, JS heap and DOM nodes;
 * - the daemon's RSS.
 * Each figure is printed with its ratio big / baseline.
 *
 * The stores are seeded in one batch: a few jobs are added and run through the API as templates,
 * then `POST /v1/restore` imports a document of N copies in one transaction (the first 1,000 and the
 * last with 3 runs each).
 *
 * Run: `npm run bench:dashboard -- [--jobs 10000] [--baseline 10]`. Writes bench/results/dashboard-scale.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { percentiles, writeResult, type Percentiles } from './lib';

const BIN = path.resolve(__dirname, '../../bin/rae-sched');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Generous: the machine may be loaded; no figure here depends on a timeout. */
const WAIT_MS = 600_000;
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};

type Answer = { status: number; text: string; headers: Record<string, string | string[] | undefined> };

function call(socketPath: string, method: string, p: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request({ socketPath, method, path: p, agent: false, headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString(), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function ok(sock: string, method: string, p: string, body?: unknown): Promise<unknown> {
  const r = await call(sock, method, p, body);
  if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${r.text.slice(0, 500)}`);
  return r.text === '' ? null : JSON.parse(r.text);
}

async function timed(n: number, fn: () => Promise<unknown>): Promise<Percentiles> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return percentiles(out);
}

// ---- seeding -------------------------------------------------------------------------------

const B32 = '0123456789abcdefghjkmnpqrstvwxyz';
const b32 = (n: number, w: number): string => {
  let s = '';
  for (let i = 0; i < w; i++, n = Math.floor(n / 32)) s = B32[n % 32] + s;
  return s;
};
/** Ids in the store's shape (src/model/ids.ts), in creation order. */
function idMaker(prefix: string, t0: number): () => string {
  let seq = 0;
  return () => {
    const n = seq++;
    let rand = '';
    for (const b of randomBytes(8)) rand += B32[b % 32];
    return `${prefix}_${b32(t0 + Math.floor(n / 1_000_000), 10)}${b32(n % 1_000_000, 4)}${rand}`;
  };
}

interface Doc { format: string; version: number; createdAt: string; jobs: Array<Record<string, unknown>>; runs: Array<Record<string, unknown>>; slots: unknown[] }

/**
 * Templates: two jobs (one enabled on a cron schedule, one paused, in words), three runs of the first.
 * Both fire once a day at night, so no run is in progress when the next restore comes.
 */
async function templates(sock: string): Promise<Doc> {
  await ok(sock, 'POST', '/v1/jobs', { name: 'tpl-a', schedule: '0 3 * * *', command: 'echo a' });
  await ok(sock, 'POST', '/v1/jobs', { name: 'tpl-b', schedule: 'every day at 03:00', command: 'echo b' });
  await ok(sock, 'POST', '/v1/jobs/tpl-b/pause');
  for (let i = 0; i < 3; i++) {
    const run = (await ok(sock, 'POST', '/v1/jobs/tpl-a/run')) as { id: string };
    await ok(sock, 'GET', `/v1/runs/${run.id}/wait`);
  }
  return (await ok(sock, 'GET', '/v1/backup')) as Doc;
}

/** A backup document of `n` jobs (every 10th paused). */
function seedDocument(tpl: Doc, n: number): Doc {
  const [a, b] = [tpl.jobs.find((j) => j.name === 'tpl-a')!, tpl.jobs.find((j) => j.name === 'tpl-b')!];
  const runsOfA = tpl.runs.filter((r) => r.jobId === a.id);
  const t0 = Math.floor(Date.now() / 1000) * 1000;
  const jobId = idMaker('job', t0);
  const runId = idMaker('run', t0);
  const jobs: Doc['jobs'] = [];
  const runs: Doc['runs'] = [];
  for (let i = 0; i < n; i++) {
    const paused = i % 10 === 0;
    const id = jobId();
    jobs.push({ ...(paused ? b : a), id, name: `job-${String(i).padStart(5, '0')}`, command: `echo ${i}` });
    // Runs for the rows seen first and the job searched for: history enough for their sparklines
    // without making the seeding restore a long one (it is one transaction, under an ask timeout).
    if (!paused && (i < 1000 || i === n - 1)) for (const r of runsOfA) runs.push({ ...r, id: runId(), jobId: id });
  }
  return { ...tpl, jobs, runs, slots: [] };
}

async function restore(sock: string, doc: Doc): Promise<number> {
  const t = process.hrtime.bigint();
  // Restore wants an idle scheduler: a run still finishing (the live phase's jobs) is waited out.
  for (let i = 0; ; i++) {
    const r = await call(sock, 'POST', '/v1/restore', doc);
    if (r.status === 200) break;
    // On a loaded machine the answer may time out while the import goes on: then wait for its jobs.
    if (/ASK_TIMEOUT/.test(r.text)) break;
    if (!/in progress/.test(r.text) || i > 600) throw new Error(`restore: ${r.status} ${r.text.slice(0, 500)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
  // Ready when stats count them (the queue re-arms them after the import).
  for (const end = Date.now() + WAIT_MS; ;) {
    const s = (await ok(sock, 'GET', '/v1/stats')) as { jobs: { total: number } };
    if (s.jobs.total === doc.jobs.length) break;
    if (Date.now() > end) throw new Error(`the restore of ${doc.jobs.length} jobs did not show in stats (${s.jobs.total})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Number(process.hrtime.bigint() - t) / 1e6;
}

// ---- measuring -----------------------------------------------------------------------------

const rssOf = (p: ChildProcess): number =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

/**
 * A search once the jobs snapshot is due for its refresh (JOBS_SNAPSHOT_MS, 10 s): answered from the
 * current snapshot while the daemon reads every job in the background (only the request is timed).
 */
async function searchDuringRefresh(sock: string, n: number): Promise<Percentiles> {
  const out: number[] = [];
  for (let i = 0; i < 2; i++) {
    await new Promise((r) => setTimeout(r, 10_100));
    out.push((await timed(1, () => ok(sock, 'GET', `/v1/jobs?limit=500&q=job-${String(n - 1).padStart(5, '0')}x${i}`))).p50);
  }
  return percentiles(out);
}

async function apiFigures(sock: string, n: number): Promise<Record<string, Percentiles>> {
  return {
    health: await timed(10, () => call(sock, 'GET', '/v1/health')),
    jobsPage: await timed(10, () => ok(sock, 'GET', '/v1/jobs?limit=500')),
    search: await timed(10, () => ok(sock, 'GET', `/v1/jobs?limit=500&q=job-${String(n - 1).padStart(5, '0')}`)),
    searchDuringRefresh: await searchDuringRefresh(sock, n),
    allJobsOnePage: await timed(3, () => ok(sock, 'GET', `/v1/jobs?limit=${Math.max(n, 1)}`)),
    stats: await timed(10, () => ok(sock, 'GET', '/v1/stats')),
    metrics: await timed(10, () => call(sock, 'GET', '/v1/metrics')),
  };
}

interface PageFigures {
  firstRowsMs: number;
  domRowsAtFirst: number;
  heapAtFirstMB: number;
  scrollFrameMs: Percentiles;
  allLoadedMs: number;
  rowsLoaded: number;
  domRowsAtEnd: number;
  domNodesAtEnd: number;
  heapAtEndMB: number;
  searchMs: number;
  stateFilterMs: number;
  liveEvents: number;
  liveScriptMsPerEvent: number;
}

const count = (page: Page): Promise<number> => page.$$eval('.row[data-job]', (r) => r.length);
const heapMB = async (page: Page): Promise<number> => Math.round(((await page.metrics()).JSHeapUsedSize ?? 0) / 1e5) / 10;

/** In the page: sets `js` going, then resolves with ms until `done()` holds, checked each frame. */
function inPage(page: Page, act: string, done: string): Promise<number> {
  return page.evaluate(`new Promise((resolve) => {
    const t0 = performance.now();
    ${act};
    const check = () => (${done}) ? resolve(performance.now() - t0) : requestAnimationFrame(check);
    requestAnimationFrame(check);
  })`) as Promise<number>;
}

async function pageFigures(browser: Browser, sock: string, n: number): Promise<PageFigures> {
  const { url } = (await ok(sock, 'POST', '/v1/login-codes', {})) as { url: string };
  const ctx = await browser.createBrowserContext();
  try {
    const page = await ctx.newPage();
    page.setDefaultTimeout(WAIT_MS);
    await page.setViewport({ width: 1280, height: 900 });
    const t0 = Date.now();
    await page.goto(url);
    await page.waitForSelector('.row[data-job]');
    const firstRowsMs = Date.now() - t0;
    const domRowsAtFirst = await count(page);
    const heapAtFirstMB = await heapMB(page);
    console.log(`  first rows after ${firstRowsMs} ms`);

    // The frame after a scroll step of 10 rows: rows at the new place are in the DOM.
    const steps: number[] = [];
    for (let i = 1; i <= 20 && i * 10 < n; i++) {
      steps.push(await inPage(page, `document.querySelector('.rows').scrollTop = ${i * 340}`,
        `[...document.querySelectorAll('.row[data-job]')].some((r) => parseFloat(r.style.top) === ${i * 340})`));
    }
    const scrollFrameMs = percentiles(steps.length > 0 ? steps : [0]);

    // Scroll to the end until every job is loaded (pages of 500 fetched as the end comes near).
    const allLoadedMs = await inPage(page, '', `(() => { const el = document.querySelector('.rows');
      el.scrollTop = el.scrollHeight; return /^${n} of ${n} jobs/.test(document.querySelector('[data-testid="job-count"]').textContent); })()`);
    const rowsLoaded = await page.$eval('.rows > div', (d) => Math.round((d as unknown as { offsetHeight: number }).offsetHeight / 34));
    const domRowsAtEnd = await count(page);
    const domNodesAtEnd = (await page.metrics()).Nodes ?? 0;
    const heapAtEndMB = await heapMB(page);
    console.log(`  scrolled through ${rowsLoaded} rows in ${Math.round(allLoadedMs)} ms`);

    // Search for one job by name (input → its row alone on screen).
    const want = `job-${String(n - 1).padStart(5, '0')}`;
    const searchMs = await inPage(page, `const s = document.querySelector('[data-testid="search"]');
      s.value = '${want}'; s.dispatchEvent(new Event('input', { bubbles: true }))`,
      `(() => { const r = document.querySelectorAll('.row[data-job]'); return r.length === 1 && r[0].dataset.job === '${want}'; })()`);
    await inPage(page, `const s = document.querySelector('[data-testid="search"]'); s.value = ''; s.dispatchEvent(new Event('input', { bubbles: true }))`,
      `document.querySelectorAll('.row[data-job]').length > 1 || ${n} <= 1`);
    // State filter: paused jobs only.
    const stateFilterMs = await inPage(page, `const f = document.querySelector('[data-testid="state-filter"]');
      f.value = 'paused'; f.dispatchEvent(new Event('change', { bubbles: true }))`,
      `(() => { const r = [...document.querySelectorAll('.row[data-job]')]; return r.length > 0 && r.every((x) => x.querySelector('.c-state').textContent === 'paused')
        && /of ${Math.ceil(n / 10)} job/.test(document.querySelector('[data-testid="job-count"]').textContent); })()`);
    await inPage(page, `const f = document.querySelector('[data-testid="state-filter"]'); f.value = ''; f.dispatchEvent(new Event('change', { bubbles: true }))`,
      `!/of ${Math.ceil(n / 10)} job/.test(document.querySelector('[data-testid="job-count"]').textContent)`);

    // Live: pause and resume up to 20 enabled jobs (40 events: the page lists the last 50) through the API; the page's script time per event.
    const targets = Array.from({ length: n }, (_, i) => i).filter((i) => i % 10 !== 0).slice(0, 20).map((i) => `job-${String(i).padStart(5, '0')}`);
    await page.waitForSelector('[data-testid="live"].ok');
    const before = await page.metrics();
    for (const name of targets) await ok(sock, 'POST', `/v1/jobs/${name}/pause`);
    for (const name of targets) await ok(sock, 'POST', `/v1/jobs/${name}/resume`);
    const last = targets[targets.length - 1]!;
    await page.waitForFunction(`(() => { const li = document.querySelector('[data-testid="events"] li');
      return li !== null && li.textContent.includes('job.updated') && li.textContent.includes('${last}')
        && [...document.querySelectorAll('[data-testid="events"] li')].filter((x) => x.textContent.includes('${last}')).length >= 2; })()`);
    const after = await page.metrics();
    const liveEvents = targets.length * 2;
    const liveScriptMsPerEvent = (((after.ScriptDuration ?? 0) - (before.ScriptDuration ?? 0)) * 1000) / liveEvents;
    return {
      firstRowsMs, domRowsAtFirst, heapAtFirstMB, scrollFrameMs, allLoadedMs: Math.round(allLoadedMs), rowsLoaded, domRowsAtEnd,
      domNodesAtEnd, heapAtEndMB, searchMs: Math.round(searchMs), stateFilterMs: Math.round(stateFilterMs), liveEvents,
      liveScriptMsPerEvent: Math.round(liveScriptMsPerEvent * 100) / 100,
    };
  } finally {
    await ctx.close();
  }
}

async function measure(browser: Browser, sock: string, daemon: ChildProcess, doc: Doc): Promise<Record<string, unknown>> {
  const n = doc.jobs.length;
  const seedMs = await restore(sock, doc);
  console.log(`seeded ${n} jobs and ${doc.runs.length} runs in ${Math.round(seedMs)} ms (one restore)`);
  const api = await apiFigures(sock, n);
  console.log(`api figures of ${n} jobs done`);
  const page = await pageFigures(browser, sock, n);
  const out = { jobs: n, runs: doc.runs.length, seedMs: Math.round(seedMs), api, page, daemonRssMB: Math.round(rssOf(daemon) / 1e6) };
  console.log(JSON.stringify(out));
  return out;
}

/** big / small for every number both have (p50 of percentile summaries). */
function ratios(big: Record<string, unknown>, small: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (b: unknown, s: unknown, key: string): void => {
    if (typeof b === 'number' && typeof s === 'number') {
      if (s !== 0) out[key] = Math.round((b / s) * 100) / 100;
    } else if (b !== null && typeof b === 'object' && s !== null && typeof s === 'object') {
      const bo = b as Record<string, unknown>;
      if ('p50' in bo) return walk(bo.p50, (s as Record<string, unknown>).p50, key);
      for (const k of Object.keys(bo)) walk(bo[k], (s as Record<string, unknown>)[k], key ? `${key}.${k}` : k);
    }
  };
  walk(big, small, '');
  return out;
}

async function main(): Promise<void> {
  const jobs = arg('jobs', 10_000);
  const baseline = arg('baseline', 10);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rae-bench-dash-'));
  const daemon = spawn(process.execPath, [BIN, 'daemon', '--data-dir', dir, '--http', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  daemon.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const sock = path.join(dir, 'rae-sched.sock');
  let browser: Browser | undefined;
  // Stopped from outside (Ctrl-C, timeout): leave no daemon, browser or data directory behind.
  const stop = (): void => {
    daemon.kill('SIGTERM');
    void (browser?.close() ?? Promise.resolve()).finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for (let i = 0; (await call(sock, 'GET', '/v1/health').catch(() => ({ status: 0 }))).status !== 200; i++) {
      if (i > 1200) throw new Error(`daemon did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const tpl = await templates(sock);
    browser = await puppeteer.launch({
      executablePath: CHROMIUM, headless: true, protocolTimeout: WAIT_MS,
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    });
    const small = await measure(browser, sock, daemon, seedDocument(tpl, baseline));
    const big = await measure(browser, sock, daemon, seedDocument(tpl, jobs));
    const result = { jobs, baseline, loadavg: os.loadavg().map((x) => Math.round(x * 10) / 10), small, big, ratioBigToSmall: ratios(big, small) };
    console.log(JSON.stringify(result, null, 2));
    console.log('written', writeResult('dashboard-scale', result));
  } finally {
    await browser?.close();
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
