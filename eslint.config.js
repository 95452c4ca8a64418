// @ts-check
const eslint = require('@eslint/js');
const tseslint = require('typescript-eslint');

/**
 * Layering (docs/architecture.md, "Layering"): src/model at the bottom, then src/runtime, then
 * src/actors and src/workers; the facade (api.ts, scheduler.ts, index.ts, testing.ts), the CLI, the
 * HTTP API and the read view sit on top. A lower layer never imports an upper one. Imports are
 * relative, so each rule is written for the depth of the files it covers (`up` = '../' repeated to
 * reach src/).
 */
const TOP = '(api|scheduler|index|testing|cli|http|reads)';
/** @param {string} files @param {string} up @param {string} names @param {string} why */
function layer(files, up, names, why) {
  const upRe = up.replace(/\./g, '\\.');
  return {
    files: [files],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ regex: `^${upRe}${names}(/|$)`, message: why }],
      }],
    },
  };
}
const ACTORS = 'actors and workers import only src/model, src/runtime, src/errors and each other: move a shared shape into src/model';
const RUNTIME = 'src/runtime imports only src/model and src/errors: move a shared shape into src/model';
const MODEL = 'src/model is the bottom layer: it imports only src/model and src/errors';

module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '*.js'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  layer('src/actors/*/*.ts', '../../', TOP, ACTORS),
  layer('src/workers/*.ts', '../', TOP, ACTORS),
  layer('src/workers/run/*.ts', '../../', TOP, ACTORS),
  layer('src/runtime/*.ts', '../', `(${TOP.slice(1, -1)}|actors|workers)`, RUNTIME),
  layer('src/model/*.ts', '../', '(?!errors$)[^/]+', MODEL),
);
