/**
 * `bin/rae-sched` loads the CLI as ONE bundled file (scripts/bundle-cli.js), and what it keeps
 * out of the bundle still loads from dist/: a command that needs the offline store path, and errors
 * thrown there, behave exactly as before (one copy of errors.js: `instanceof` holds across).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BIN } from './harness';

jest.setTimeout(120_000);

const DIST_CLI = resolve(__dirname, '../../src/cli');

/** Runs the binary with a preload that prints, at exit, every module of dist/src it loaded. */
function loaded(dir: string, args: string[], bin = BIN): { code: number | null; stderr: string; modules: string[] } {
  const probe = join(dir, 'probe.js');
  writeFileSync(probe, `const M = require('node:module'); const seen = []; const load = M._load;
M._load = function (request, parent, isMain) { const r = load.apply(this, arguments); try { seen.push(M._resolveFilename(request, parent, isMain)); } catch {} return r; };
process.on('exit', () => process.stdout.write('\\nMODULES ' + JSON.stringify(seen.filter((f) => f.includes('/dist/src/'))) + '\\n'));`);
  const r = spawnSync(process.execPath, ['--require', probe, bin, ...args], { encoding: 'utf8' });
  const m = /MODULES (.*)\n/.exec(r.stdout);
  return { code: r.status, stderr: r.stderr, modules: m === null ? [] : (JSON.parse(m[1]!) as string[]) };
}

describe('the bundled CLI entry', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rae-bundle-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('loads main.bundle.js, not the separate CLI modules', () => {
    const r = loaded(dir, ['--version']);
    expect(r.code).toBe(0);
    expect(r.modules).toContain(join(DIST_CLI, 'main.bundle.js'));
    expect(r.modules).not.toContain(join(DIST_CLI, 'main.js'));
    expect(r.modules).not.toContain(join(DIST_CLI, 'commands/jobs.js'));
  });

  it('what it keeps out of the bundle loads from dist/ on demand; its errors keep their exit codes', () => {
    // A store path is needed: direct.js is required from dist/ (and only then).
    const add = loaded(dir, ['add', 'a', 'never', 'true', '--data-dir', dir]);
    expect(add.code).toBe(0);
    expect(add.modules).toContain(join(DIST_CLI, 'direct.js'));
    // A NotFoundError thrown by the on-demand module: exit 1 and its one line, as before the bundle.
    const missing = loaded(dir, ['status', 'nope', '--data-dir', dir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^rae-sched: error: .*nope/);
    // A validation error thrown by the store path: exit 2 (the shared ValidationError class).
    const bad = loaded(dir, ['add', 'b', 'every banana', 'true', '--data-dir', dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
  });

  it('an offline list that computes no next fire loads no schedule maths (cron-parser, luxon)', () => {
    // A paused job and an event job: list shows no next fire, so nothing is parsed (schedule-cache.ts).
    const SCHEDULE = join(DIST_CLI, '../actors/parser/schedule.js');
    expect(loaded(dir, ['add', 'a', 'every 5m', 'true', '--data-dir', dir]).code).toBe(0);
    expect(loaded(dir, ['add', 'b', 'never', 'true', '--data-dir', dir]).code).toBe(0);
    expect(loaded(dir, ['pause', 'a', '--data-dir', dir]).code).toBe(0);
    const quiet = loaded(dir, ['list', '--data-dir', dir]);
    expect(quiet.code).toBe(0);
    expect(quiet.modules).toContain(join(DIST_CLI, '../reads/read-view.js'));
    expect(quiet.modules).not.toContain(SCHEDULE);
    // A job whose next fire must be computed (none stored): the maths loads, on demand.
    expect(loaded(dir, ['add', 'c', 'every 5m', 'true', '--data-dir', dir]).code).toBe(0);
    const computed = loaded(dir, ['list', '--data-dir', dir]);
    expect(computed.code).toBe(0);
    expect(computed.modules).toContain(SCHEDULE);
  });

  it('a module compiled after the bundle (tsc --watch, --incremental: only changed files are written) makes the shim load the compiled modules', () => {
    // A copy of the built package: bin/, dist/src, package.json, and the repository's node_modules.
    const root = resolve(__dirname, '../../..');
    const copy = join(dir, 'pkg');
    mkdirSync(join(copy, 'dist'), { recursive: true });
    cpSync(join(root, 'bin'), join(copy, 'bin'), { recursive: true });
    cpSync(join(root, 'dist/src'), join(copy, 'dist/src'), { recursive: true, preserveTimestamps: true });
    cpSync(join(root, 'package.json'), join(copy, 'package.json'));
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
    const bin = join(copy, 'bin/rae-sched');
    const cli = join(copy, 'dist/src/cli');
    // As built: the bundle is at least as new as every module in it.
    const built = statSync(join(cli, 'main.bundle.js')).mtime;
    for (const f of ['main.js', 'commands/jobs.js']) utimesSync(join(cli, f), built, built);
    const asBuilt = loaded(dir, ['--version'], bin);
    expect(asBuilt.code).toBe(0);
    expect(asBuilt.modules).toContain(join(cli, 'main.bundle.js'));
    // One bundled module rewritten after the bundle, main.js untouched: the bundle is stale.
    const later = new Date(built.getTime() + 10_000);
    utimesSync(join(cli, 'commands/jobs.js'), later, later);
    const partial = loaded(dir, ['--version'], bin);
    expect(partial.code).toBe(0);
    expect(partial.modules).not.toContain(join(cli, 'main.bundle.js'));
    expect(partial.modules).toContain(join(cli, 'main.js'));
  });
});
