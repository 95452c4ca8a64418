/**
 * The dashboard in a real browser: headless Chromium (Debian's package, driven by puppeteer-core)
 * against a real daemon started with `--http 127.0.0.1:0`. Load the page through the one-time login
 * link, see a job added from the CLI appear live, run it from the page and see its output, pause and
 * resume it, and keep a screenshot (test-output/dashboard.png).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { Job } from '../../src/model/job';
import { type DaemonHandle, eventually, rae, startDaemon } from '../cli/harness';

jest.setTimeout(240_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = resolve(__dirname, '../../../test-output');
const WAIT = { timeout: 60_000 };

let dir: string;
let daemon: DaemonHandle;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const cli = (...args: string[]) => rae([...args, '--data-dir', dir]);

/** The daemon's TCP URL (asked over the socket: the log is written asynchronously). */
async function httpUrl(_d: DaemonHandle): Promise<string> {
  const r = await cli('dashboard', '--no-open', '--json');
  if (r.code !== 0) throw new Error(`rae-sched dashboard failed: ${r.stderr}`);
  return new URL((JSON.parse(r.stdout) as { url: string }).url).origin;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (.ci/run does)`);
  dir = await mkdtemp(join(tmpdir(), 'rae-dash-'));
  daemon = await startDaemon(dir, ['--http', '127.0.0.1:0', '--grace', '2s']);
  await httpUrl(daemon);
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in CI: Chromium's sandbox needs an unprivileged user namespace it may not get.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    protocolTimeout: 120_000,
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.setDefaultTimeout(60_000);
  // Page errors end up in the failure message of the test that hit them.
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
});

afterEach(() => {
  // 401/403 answers are expected here (the tests provoke them); anything else is worth seeing.
  const unexpected = pageErrors.filter((e) => !/status of 40[13]/.test(e));
  if (unexpected.length > 0) console.log(`errors in the page:\n${unexpected.join('\n')}`);
  pageErrors.length = 0;
});

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('dashboard in Chromium', () => {
  it('without a login shows how to get one; the API refuses the page', async () => {
    const base = await httpUrl(daemon);
    await page.goto(base + '/', { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('[data-testid="login"]', WAIT);
    const status = await page.evaluate(async () => (await fetch('/v1/jobs')).status);
    expect(status).toBe(401);
  });

  it('logs in with the one-time link, shows a CLI-added job live, runs, pauses and resumes it', async () => {
    const login = await cli('dashboard', '--no-open', '--json');
    expect(login.code).toBe(0);
    const { url } = JSON.parse(login.stdout) as { url: string };
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('[data-testid="jobs"]', WAIT);
    // The code left the address bar; the session is an HttpOnly, SameSite=Strict cookie.
    expect(page.url()).not.toContain('code=');
    const cookies = await browser.cookies();
    expect(cookies.find((c) => c.name === 'rae_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    // The link is one-time.
    const reuse = await page.evaluate(async (code) => (await fetch('/v1/session', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }),
    })).status, /#code=(.+)$/.exec(url)![1]!);
    expect(reuse).toBe(401);
    // A write with the cookie but without the CSRF token is refused.
    const forged = await page.evaluate(async () => (await fetch('/v1/jobs', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'forged', schedule: 'never', command: 'true' }),
    })).status);
    expect(forged).toBe(403);

    // Added from the CLI while the page is open: it appears through the event stream.
    await page.waitForSelector('[data-testid="live"].ok', WAIT);
    const add = await cli('add', 'hello', 'every 1h', 'echo hello from the dashboard');
    expect(add.code).toBe(0);
    await page.waitForSelector('.row[data-job="hello"]', WAIT);

    await page.click('.row[data-job="hello"]');
    await page.waitForSelector('[data-testid="job-page"][data-job="hello"]', WAIT);
    // The next fires on a timeline, and why in words.
    expect(await page.$$eval('[data-testid="timeline"] .tick', (t) => t.length)).toBe(10);
    expect(await page.$eval('[data-testid="why"]', (e) => e.textContent)).toContain('Nothing blocks it.');
    await page.click('[data-action="run"]');
    await page.waitForFunction(
      `[...document.querySelectorAll('[data-testid="output"]')].some((e) => e.textContent.includes('hello from the dashboard'))`,
      WAIT,
    );
    await page.waitForSelector('[data-testid="history"] [data-status="succeeded"]', WAIT);

    await page.click('[data-action="pause"]');
    await page.waitForFunction(`document.querySelector('[data-testid="job-state"]')?.textContent === 'paused'`, WAIT);
    const paused = JSON.parse((await cli('status', 'hello', '--json')).stdout) as Job;
    expect(paused.enabled).toBe(false);
    await page.click('[data-action="resume"]');
    await page.waitForFunction(`document.querySelector('[data-testid="job-state"]')?.textContent === 'scheduled'`, WAIT);
    const resumed = JSON.parse((await cli('status', 'hello', '--json')).stdout) as Job;
    expect(resumed.enabled).toBe(true);

    // Back to the list for the screenshot: the job with its last status, health and stats.
    await cli('add', 'nightly-backup', '0 2 * * *', 'echo backup');
    await cli('add', 'flaky', 'never', 'exit 3');
    await cli('run', 'flaky', '--wait');
    await page.click('button.link');
    await page.waitForSelector('.row[data-job="flaky"] [data-status="failed"]', WAIT);
    await page.waitForSelector('[data-testid="health"]', WAIT);
    await mkdir(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'dashboard.png') });
    expect(existsSync(join(OUT, 'dashboard.png'))).toBe(true);
  });

  it('`rae-sched dashboard` prints the login link and, on a desktop, opens it', async () => {
    // No desktop here: a stand-in xdg-open on PATH records what it was asked to open.
    const bin = join(dir, 'fake-bin');
    await mkdir(bin, { recursive: true });
    const opened = join(dir, 'opened.txt');
    await writeFile(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`, { mode: 0o755 });
    const r = await rae(['dashboard', '--data-dir', dir], { env: { DISPLAY: ':0', PATH: `${bin}:${process.env.PATH}` } });
    expect(r.code).toBe(0);
    const url = r.stdout.split('\n')[0]!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#code=[\w-]{43}$/);
    expect(r.stdout).toContain('one-time login link, valid until');
    await eventually(async () => (existsSync(opened) ? true : undefined), 'xdg-open to be called');
    expect(await readFile(opened, 'utf8')).toBe(url);
    // --no-open only prints.
    await rm(opened);
    const quiet = await rae(['dashboard', '--data-dir', dir, '--no-open'], { env: { DISPLAY: ':0', PATH: `${bin}:${process.env.PATH}` } });
    expect(quiet.code).toBe(0);
    await new Promise((res) => setTimeout(res, 300));
    expect(existsSync(opened)).toBe(false);
  });

  it('search filters the list on the daemon side', async () => {
    await page.type('[data-testid="search"]', 'nightly');
    await page.waitForFunction(`document.querySelectorAll('.row[data-job]').length === 1`, WAIT);
    expect(await page.$('.row[data-job="nightly-backup"]')).not.toBeNull();
  });

  it('removes a job only after the confirmation', async () => {
    await page.click('.row[data-job="nightly-backup"]');
    await page.waitForSelector('[data-testid="job-page"][data-job="nightly-backup"]', WAIT);
    await page.click('[data-action="remove"]');
    await page.waitForSelector('[data-action="confirm-remove"]', WAIT);
    // Asked, not done yet.
    expect((await cli('status', 'nightly-backup')).code).toBe(0);
    await page.click('[data-action="confirm-remove"]');
    await page.waitForSelector('[data-testid="jobs"]', WAIT);
    await page.waitForFunction(`document.querySelector('.row[data-job="nightly-backup"]') === null`, WAIT);
    expect((await cli('status', 'nightly-backup')).code).not.toBe(0);
  });

  it('shows the login again when the session is revoked from the CLI, and after logging out', async () => {
    const list = JSON.parse((await cli('session', 'list', '--json')).stdout) as Array<{ id: string }>;
    expect(list.length).toBe(1);
    const unknown = await cli('session', 'revoke', 'ses_nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no session 'ses_nope'");
    expect((await cli('session', 'revoke', list[0]!.id)).code).toBe(0);
    // The page's next request (its stats poll, every 5 s) is refused: it says so.
    await page.waitForFunction(`document.querySelector('[data-testid="login"]')?.textContent.includes('session has ended')`, WAIT);

    const login = await cli('dashboard', '--no-open', '--json');
    await page.goto((JSON.parse(login.stdout) as { url: string }).url, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('[data-testid="jobs"]', WAIT);
    await page.click('[data-action="logout"]');
    await page.waitForFunction(`document.querySelector('[data-testid="login"]')?.textContent.includes('session has ended')`, WAIT);
    expect(JSON.parse((await cli('session', 'list', '--json')).stdout)).toEqual([]);
  });
});
