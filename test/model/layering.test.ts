/**
 * The layering rule (docs/architecture.md "Layering and shared shapes") is enforced by eslint's
 * no-restricted-imports in eslint.config.js. These cases lint a one-line file placed in each layer,
 * so loosening the config (or a change of eslint's pattern matching) fails here, not in review.
 */
import path from 'node:path';
import { ESLint } from 'eslint';

jest.setTimeout(60_000);

const root = path.resolve(__dirname, '..', '..', '..');
let eslint: ESLint;
beforeAll(() => {
  // The project's own config, handed over as a value: eslint loads a config file by dynamic
  // import(), which jest's module sandbox does not allow.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const config = require(path.join(root, 'eslint.config.js')) as ESLint.Options['overrideConfig'];
  eslint = new ESLint({ cwd: root, overrideConfigFile: true, overrideConfig: config });
});

async function restricted(file: string, from: string): Promise<boolean> {
  const [result] = await eslint.lintText(`import type { X } from '${from}';\nexport type Y = X;\n`, { filePath: path.join(root, file) });
  return result!.messages.some((m) => m.ruleId === 'no-restricted-imports');
}

it.each([
  ['src/runtime/new.ts', '../api'],
  ['src/runtime/new.ts', '../actors/scheduler/engine'],
  ['src/runtime/new.ts', '../cli/format'],
  ['src/actors/monitor/new.ts', '../../api'],
  ['src/actors/triggers/new.ts', '../../cli/format'],
  ['src/actors/persistence/new.ts', '../../scheduler'],
  ['src/actors/queue/new.ts', '../../http/schemas'],
  ['src/workers/new.ts', '../reads/read-view'],
  ['src/workers/run/new.ts', '../../api'],
  ['src/model/new.ts', '../api'],
  ['src/model/new.ts', '../runtime/clock'],
])('%s may not import %s', async (file, from) => {
  expect(await restricted(file, from)).toBe(true);
});

it.each([
  ['src/runtime/new.ts', '../model'],
  ['src/runtime/new.ts', '../errors'],
  ['src/actors/persistence/new.ts', '../scheduler/job-spec'],
  ['src/actors/executor/new.ts', '../../runtime/backoff'],
  ['src/actors/executor/new.ts', '../../workers/run/cancel'],
  ['src/workers/run/new.ts', '../../actors/executor/result'],
  ['src/model/new.ts', '../errors'],
  ['src/model/new.ts', './job'],
  ['src/cli/new.ts', '../api'],
  ['src/http/new.ts', '../api'],
])('%s may import %s', async (file, from) => {
  expect(await restricted(file, from)).toBe(false);
});
