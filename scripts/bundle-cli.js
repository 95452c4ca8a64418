#!/usr/bin/env node
'use strict';
/**
 * Build step after `tsc`: bundles the CLI's entry (dist/src/cli/main.js) into ONE file,
 * dist/src/cli/main.bundle.js, which bin/rae-sched loads. A `rae-sched list` then reads and compiles
 * one file instead of resolving and loading ~45 modules (commander's and string-width's included):
 * about a third less CPU for every client command (docs/cli.md "Start-up cost").
 *
 * Bundled: the client's own modules (src/cli/*, less those loaded on demand) and the few small npm
 * packages every command loads. Everything else stays a separate module, required at run time from
 * dist/ exactly as before:
 * - what a command loads on demand (the offline store path direct.js, the daemon, doctor): these find
 *   their worker scripts, static files and native addons relative to their own files;
 * - every module outside src/cli (errors, model, reads, ...): those are shared with the modules
 *   loaded on demand, and one copy of each keeps `instanceof SchedulerError` and module state true
 *   across the boundary;
 * - other npm packages (lmdb is native; rxjs and luxon load on demand).
 */
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const DIST = path.resolve(__dirname, '../dist/src');
const ENTRY = path.join(DIST, 'cli/main.js');
const OUT = path.join(DIST, 'cli/main.bundle.js');

const CLI = path.join(DIST, 'cli');
/** Modules of src/cli loaded on demand (an `await import(...)`): kept out of the bundle. */
const ON_DEMAND = new Set(['direct', 'daemon', 'doctor'].map((p) => path.join(CLI, `${p}.js`)));
/** Whether a module of dist/ goes into the bundle. */
const bundled = (file) => path.dirname(file).startsWith(CLI) && !ON_DEMAND.has(file);
/** The npm packages bundled (small, pure JS, loaded by every command). */
const BUNDLED = new Set(['commander', 'string-width', 'strip-ansi', 'ansi-regex', 'is-fullwidth-code-point', 'emoji-regex']);

const packageOf = (p) => (p.startsWith('@') ? p.split('/').slice(0, 2).join('/') : p.split('/')[0]);

/** Resolves every import: what is not bundled stays a `require` (a path relative to the bundle). */
const keepOnDemand = {
  name: 'keep-on-demand',
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.kind === 'entry-point' || args.pluginData === 'inner') return undefined;
      if (!args.path.startsWith('.')) {
        return args.path.startsWith('node:') || !BUNDLED.has(packageOf(args.path)) ? { path: args.path, external: true } : undefined;
      }
      const found = await build.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, pluginData: 'inner' });
      // (Relative imports inside a bundled npm package stay in the bundle.)
      if (found.errors.length > 0 || !found.path.startsWith(DIST) || bundled(found.path)) return found;
      return { path: `./${path.relative(path.dirname(OUT), found.path)}`, external: true };
    });
  },
};

/**
 * Beside the bundle: the modules of dist/ it holds, relative to dist/src/cli. bin/rae-sched uses the
 * bundle only if none of them is newer than it — a `tsc --watch` or `--incremental` build rewrites
 * only the files that changed (not main.js), and must not leave the shim on the old code.
 */
const INPUTS = path.join(DIST, 'cli/main.bundle.inputs.json');

esbuild.build({
  entryPoints: [ENTRY], outfile: OUT, bundle: true, platform: 'node', target: 'node20', format: 'cjs',
  logLevel: 'warning', legalComments: 'none', plugins: [keepOnDemand], metafile: true,
}).then((result) => {
  const inputs = Object.keys(result.metafile.inputs).map((p) => path.resolve(p))
    .filter((p) => p.startsWith(DIST)).map((p) => path.relative(path.dirname(OUT), p));
  fs.writeFileSync(INPUTS, `${JSON.stringify(inputs)}\n`);
}).catch(() => process.exit(1));
