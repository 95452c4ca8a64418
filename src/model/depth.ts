/** Bounding how deeply nested an input document may be, without recursion (no stack to overflow). */
import { ValidationError } from '../errors';

/** Deepest nesting a backup document may have (a real one is 5 levels deep). */
export const MAX_DOCUMENT_DEPTH = 64;

/**
 * Throws when `doc` is nested deeper than `max` levels. Walks with an explicit stack, so a document
 * 200,000 levels deep is refused with one line instead of "Maximum call stack size exceeded" later
 * (in zod, or in structured clone on the way to a worker thread).
 * @throws ValidationError naming `field`.
 */
export function assertMaxDepth(doc: unknown, field: string, what: string, max: number = MAX_DOCUMENT_DEPTH): void {
  const stack: Array<[unknown, number]> = [[doc, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) throw new ValidationError(`${field}: ${what} is nested deeper than ${max} levels: not a rae-sched backup`, field);
    for (const child of Array.isArray(v) ? v : Object.values(v as object)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
}
