/** The package's version, from package.json (`rae-sched --version`, the OpenAPI document). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The `version` of package.json, or `0.0.0` when it cannot be read. */
export function packageVersion(): string {
  try {
    // dist/src/version.js → package.json at the package root.
    return (JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
