/**
 * The API and the dashboard with many jobs: a real daemon (`bin/rae-sched daemon --http`) holding N
 * jobs (default 10,000), then
 * - latency of one page of jobs (`GET /v1/jobs?limit=500`) and of reading all of them page by page,
 *   beside `GET /v1/health` measured in the same run (the floor of one HTTP request to the daemon);
 * - in headless Chromium: time from opening the login link to the first rows, how many rows are in the
 *   DOM (the list is virtualised), time to scroll until every job is loaded, time for a search.
 *
 * Run: `npm run build && node dist/bench/dashboard-scale.js [--jobs 10000]`
 * Writes bench/results/dashboard-scale.json.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { percentiles, writeResult } from './lib';

const BIN = path.resolve(__dirname, '../../bin/rae-sched');
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};

function call(socketPath: string, method: string, p: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request({ socketPath, method, path: p, agent: false, headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {} }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function timed(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out;
}

async function main(): Promise<void> {
  const jobs = arg('jobs', 10_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rae-bench-dash-'));
  const daemon = spawn(process.execPath, [BIN, 'daemon', '--data-dir', dir, '--http', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  daemon.stderr.on('data', (c: Buffer) => (log += c.toString()));
  const sock = path.join(dir, 'rae-sched.sock');
  try {
    // Up when the socket answers (the daemon's log is written asynchronously).
    for (let i = 0; (await call(sock, 'GET', '/v1/health').catch(() => ({ status: 0 }))).status !== 200; i++) {
      if (i > 600) throw new Error(`daemon did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // The TCP listener is up; the dashboard is opened through its login link below.
    // Add the jobs, 32 requests in flight (each add is one durable commit).
    const tAdd = process.hrtime.bigint();
    let next = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < jobs) {
        const i = next++;
        const r = await call(sock, 'POST', '/v1/jobs', { name: `job-${i}`, schedule: i % 2 ? 'every day at 03:00' : '*/30 * * * *', command: `echo ${i}`, enabled: i % 10 !== 0 });
        if (r.status !== 201) throw new Error(`add ${i}: ${r.status} ${r.text}`);
      }
    }));
    const addMs = Number(process.hrtime.bigint() - tAdd) / 1e6;
    console.log(`added ${jobs} jobs in ${Math.round(addMs)} ms`);

    const health = percentiles(await timed(10, () => call(sock, 'GET', '/v1/health')));
    const page = percentiles(await timed(10, () => call(sock, 'GET', '/v1/jobs?limit=500')));
    const search = percentiles(await timed(10, () => call(sock, 'GET', `/v1/jobs?limit=500&q=job-${jobs - 1}`)));
    const tAll = process.hrtime.bigint();
    let after = '';
    let count = 0;
    for (;;) {
      const r = await call(sock, 'GET', `/v1/jobs?limit=1000${after}`);
      const items = JSON.parse(r.text) as Array<{ id: string }>;
      count += items.length;
      if (items.length < 1000) break;
      after = `&after=${items[items.length - 1]!.id}`;
    }
    const allMs = Number(process.hrtime.bigint() - tAll) / 1e6;
    console.log(JSON.stringify({ healthMs: health, pageOf500Ms: page, searchPageMs: search, readAll: { jobs: count, ms: allMs } }));

    const login = JSON.parse(execFileSync(process.execPath, [BIN, 'dashboard', '--data-dir', dir, '--json', '--no-open']).toString()) as { url: string };
    const browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'], protocolTimeout: 900_000 });
    const pageB = await browser.newPage();
    await pageB.setViewport({ width: 1280, height: 900 });
    const t0 = Date.now();
    await pageB.goto(login.url);
    await pageB.waitForSelector('.row[data-job]', { timeout: 120_000 });
    const firstRowsMs = Date.now() - t0;
    const domRows = await pageB.$$eval('.row[data-job]', (r) => r.length);
    console.log(JSON.stringify({ firstRowsMs, domRows }));
    const t1 = Date.now();
    await pageB.waitForFunction(`(() => { const el = document.querySelector('.rows'); el.scrollTop = el.scrollHeight;
      return document.querySelector('[data-testid="job-count"]').textContent.startsWith('${jobs} of'); })()`, { timeout: 900_000, polling: 250 });
    const allLoadedMs = Date.now() - t1;
    const domRowsAtEnd = await pageB.$$eval('.row[data-job]', (r) => r.length);
    console.log(JSON.stringify({ allLoadedMs, domRowsAtEnd }));
    const t2 = Date.now();
    await pageB.type('[data-testid="search"]', `job-${jobs - 1}`);
    await pageB.waitForFunction(`document.querySelectorAll('.row[data-job]').length === 1`, { timeout: 60_000 });
    const searchMs = Date.now() - t2;
    await browser.close();

    const result = {
      jobs, addMs, addsPerSecond: Math.round((jobs / addMs) * 1000), readAll: { jobs: count, ms: allMs },
      healthMs: health, pageOf500Ms: page, searchPageMs: search, pageToHealthP50: page.p50 / health.p50,
      browser: { firstRowsMs, domRows, allLoadedMs, domRowsAtEnd, searchMs, note: 'searchMs includes the 250 ms typing debounce' },
    };
    console.log(JSON.stringify(result, null, 2));
    console.log('written', writeResult('dashboard-scale', result));
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
