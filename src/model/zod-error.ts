/**
 * The one formatter of zod errors: every schema check in the project (addJob's JobSpec, the
 * scheduler's options, the store's records, a backup document) reports its first problem as ONE
 * line naming the path, `jobs[3].retry.maxRetries: expected number, received string`.
 * zod itself is imported as a type only, so loading this module does not load zod.
 */
import type { z } from 'zod';
import { ValidationError } from '../errors';

/**
 * A zod issue path the way people write it: `jobs[3].retry.maxRetries`; `root` goes in front,
 * `whole` stands for an empty path.
 */
export function formatPath(path: readonly PropertyKey[], root = '', whole = '(root)'): string {
  let out = root;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? whole : out;
}

/**
 * The first issue of `err` as one line and the field it names. `whole` names the value itself when
 * the issue has no path (`spec: expected object, received string`).
 * @example
 * zodIssueLine(err, 'options') // { message: 'options.maxConcurrentJobs: Too small: ...', field: 'options.maxConcurrentJobs' }
 */
export function zodIssueLine(err: z.ZodError, root = '', whole = '(root)'): { message: string; field: string } {
  const issue = err.issues[0]!;
  const field = formatPath(issue.path, root, whole);
  // zod prefixes type errors with "Invalid input: "; the path already says where, keep only what.
  const what = issue.message.replace(/^Invalid input: /, '');
  // Further problems of the same value (an empty name also fails the name's pattern) are one
  // problem to a person; only those at other paths are counted.
  const others = err.issues.filter((i) => formatPath(i.path, root, whole) !== field).length;
  const more = others > 0 ? ` (and ${others} more problem(s))` : '';
  return { message: `${field}: ${what}${more}`, field };
}

/**
 * Checks `value` against `schema` and returns it typed, or throws ONE ValidationError naming the
 * first bad path and what is wrong. `root` prefixes the path (e.g. `'job'` → `job.retry.maxRetries`).
 * @throws ValidationError with `field` set to the bad path.
 * @example
 * const doc = parseOrThrow(backupDocumentSchema, input);
 */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, root = '', whole = '(root)'): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const { message, field } = zodIssueLine(result.error, root, whole);
  throw new ValidationError(message, field);
}
