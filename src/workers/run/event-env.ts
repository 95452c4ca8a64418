/**
 * A watch-triggered run learns what changed through its environment (docs/triggers.md):
 * RAE_EVENT_TYPE (create / update / delete) and RAE_EVENT_PATH of the burst's first change, and
 * RAE_EVENT_PATHS, every distinct path of the debounced burst, one per line. A list too long for
 * the environment (Linux caps one variable at 128 KiB) goes to a private file instead, named by
 * RAE_EVENT_PATHS_FILE, removed when the run ends.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunEvent } from '../../actors/executor/types';

/** Longest RAE_EVENT_PATHS value passed inline, in bytes. */
export const MAX_INLINE_PATHS_BYTES = 32 * 1024;

/** The variables for one run, and how to remove what was written for them. */
export interface EventEnv {
  vars: Record<string, string>;
  cleanup(): void;
}

/** The event variables of a run (none when no file trigger caused it). */
export function eventEnv(event: RunEvent | null | undefined): EventEnv {
  if (event === null || event === undefined) return { vars: {}, cleanup: () => undefined };
  const vars: Record<string, string> = { RAE_EVENT_TYPE: event.type, RAE_EVENT_PATH: event.path };
  const list = event.paths.join('\n');
  if (Buffer.byteLength(list) <= MAX_INLINE_PATHS_BYTES) {
    vars.RAE_EVENT_PATHS = list;
    return { vars, cleanup: () => undefined };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'rae-event-'));
  const file = path.join(dir, 'paths');
  writeFileSync(file, list + '\n', { mode: 0o600 });
  vars.RAE_EVENT_PATHS_FILE = file;
  return { vars, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The file change of a watch-triggered run from the RAE_EVENT_* variables (as {@link eventEnv} sets them): used
 * when the event was too large to travel whole as RAE_SCHED_EVENT (its paths are then in a file).
 */
export function eventFromEnv(env: NodeJS.ProcessEnv): RunEvent | null {
  const type = env.RAE_EVENT_TYPE;
  if (type !== 'create' && type !== 'update' && type !== 'delete') return null;
  let list = env.RAE_EVENT_PATHS ?? '';
  if (env.RAE_EVENT_PATHS_FILE !== undefined) {
    try {
      list = readFileSync(env.RAE_EVENT_PATHS_FILE, 'utf8');
    } catch {
      list = env.RAE_EVENT_PATH ?? '';
    }
  }
  return { type, path: env.RAE_EVENT_PATH ?? '', paths: list.split('\n').filter((p) => p !== '') };
}
