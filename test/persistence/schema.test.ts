/** The zod schemas and the one-line ValidationError they produce. */
import { backupDocumentSchema, jobSchema, runSchema } from '../../src/actors/persistence/schema';
import { formatPath, parseOrThrow } from '../../src/model/zod-error';
import { makeJob, makeRun } from './helpers/fixtures';

function errorOf(fn: () => unknown): { code?: string; field?: string; message: string } {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; field?: string; message: string };
  }
  throw new Error('expected a throw');
}

test('valid records pass through unchanged', () => {
  const job = makeJob(1);
  expect(parseOrThrow(jobSchema, job)).toEqual(job);
  const run = makeRun(job.id, 1);
  expect(parseOrThrow(runSchema, run)).toEqual(run);
});

test('the first bad path is named, with the root prefix and what is wrong', () => {
  const e = errorOf(() => parseOrThrow(jobSchema, { ...makeJob(1), retry: { maxRetries: 'x', backoffMs: 1 } }, 'job'));
  expect(e).toMatchObject({ code: 'VALIDATION', field: 'job.retry.maxRetries' });
  expect(e.message).toMatch(/^job\.retry\.maxRetries: expected number/);
  const d = errorOf(() => parseOrThrow(backupDocumentSchema, {
    format: 'rae-sched-backup', version: 1, createdAt: '2026-01-01T00:00:00.000Z',
    jobs: [makeJob(1), makeJob(2), makeJob(3), { ...makeJob(4), schedule: 7 }], runs: [], slots: [],
  }));
  expect(d).toMatchObject({ code: 'VALIDATION', field: 'jobs[3].schedule' });
  expect(d.message).toMatch(/^jobs\[3\]\.schedule: expected string/);
});

test('run status and timestamps are checked', () => {
  expect(errorOf(() => parseOrThrow(runSchema, { ...makeRun('j', 1), status: 'done' }))).toMatchObject({ field: 'status' });
  expect(errorOf(() => parseOrThrow(runSchema, { ...makeRun('j', 1), startedAt: '2026-01-01' }))).toMatchObject({ field: 'startedAt' });
});

test('formatPath', () => {
  expect(formatPath(['jobs', 3, 'retry', 'maxRetries'])).toBe('jobs[3].retry.maxRetries');
  expect(formatPath([], 'doc')).toBe('doc');
  expect(formatPath([])).toBe('(root)');
});
