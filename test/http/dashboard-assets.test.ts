/** The dashboard ships as committed static files: the vendored Preact+htm is the package's own build. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { StaticFiles } from '../../src/http/static';

const root = resolve(__dirname, '../../..');

it('the vendored htm/preact equals the installed package file (update both together)', () => {
  const vendored = readFileSync(resolve(root, 'static/dashboard/vendor/htm-preact.mjs'));
  const pkg = readFileSync(require.resolve('htm/preact/standalone.module.js', { paths: [root] }));
  expect(vendored.equals(pkg)).toBe(true);
});

it('the package ships the static folder', () => {
  const files = (JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { files: string[] }).files;
  expect(files).toContain('static');
  // And the server finds every file the page imports.
  expect(() => new StaticFiles()).not.toThrow();
  for (const f of ['index.html', 'app.js', 'api.js', 'jobs.js', 'job.js', 'health.js', 'format.js', 'style.css']) {
    expect(readFileSync(resolve(root, 'static/dashboard', f)).length).toBeGreaterThan(0);
  }
});
