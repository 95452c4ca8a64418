/**
 * The add-time check of a JobSpec that needs the file system. The spec's schema, its defaults and
 * `fillJobSpec` are in src/model/job-spec.ts (one schema for every door).
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { ValidationError } from '../../errors';
import type { FilledJobSpec } from '../../model/job-spec';

/**
 * A job whose module or working directory does not exist would fail on every run: refuse it when
 * it is added instead. (Relative module paths resolve against `cwd`, as the executor does.)
 * @throws ValidationError naming `module` or `cwd`.
 */
export function checkPaths(spec: FilledJobSpec): void {
  const isA = (p: string, kind: 'file' | 'dir'): boolean => {
    try {
      const st = statSync(p);
      return kind === 'file' ? st.isFile() : st.isDirectory();
    } catch {
      return false;
    }
  };
  if (spec.cwd !== null && !isA(spec.cwd, 'dir')) throw new ValidationError(`cwd: '${spec.cwd}' is not a directory`, 'cwd');
  if (spec.module !== null) {
    const file = path.resolve(spec.cwd ?? process.cwd(), spec.module);
    if (!isA(file, 'file')) throw new ValidationError(`module: '${spec.module}' is not a file`, 'module');
  }
}
