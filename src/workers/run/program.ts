/**
 * Whether a program can be started, checked before spawning: a run contained in a cgroup starts
 * through a joining `/bin/sh` (src/workers/run/cgroup.ts), whose `exec` failing would only show as
 * exit code 127/126 — so "no such program" and "permission denied" are found here first, as
 * execvp(3) would: a name with a slash is taken as it is (relative to the run's cwd), otherwise
 * searched in the run's PATH.
 */
import fs from 'node:fs';
import path from 'node:path';

const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

/** An ENOENT / EACCES error for `file`, or null when it can be executed. */
export function programError(file: string, cwd: string | null, searchPath: string | undefined): NodeJS.ErrnoException | null {
  const candidates = file.includes('/')
    ? [path.resolve(cwd ?? process.cwd(), file)]
    : (searchPath ?? DEFAULT_PATH).split(':').map((d) => path.resolve(cwd ?? process.cwd(), d || '.', file));
  let denied = false;
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      if (!fs.statSync(c).isDirectory()) return null;
      denied = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EACCES') denied = true;
    }
  }
  const code = denied ? 'EACCES' : 'ENOENT';
  return Object.assign(new Error(`${file}: ${code}`), { code });
}
