/** Output for people: relative times and aligned tables. */
import { formatJobs, formatNext, formatSize, relativeTime, table } from '../../src/cli/format';
import type { Job } from '../../src/model/job';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const at = (ms: number): string => new Date(NOW + ms).toISOString();

describe('relativeTime', () => {
  it.each([
    [0, 'now'], [999, 'now'], [5_000, 'in 5s'], [-5_000, '5s ago'], [300_000, 'in 5m'], [-7_200_000, '2h ago'],
    [47 * 3_600_000, 'in 47h'], [3 * 86_400_000, 'in 3d'],
  ])('%d ms → %s', (ms, text) => {
    expect(relativeTime(at(ms), NOW)).toBe(text);
  });
  it('shows a dash for no time', () => {
    expect(relativeTime(null, NOW)).toBe('-');
    expect(relativeTime('garbage', NOW)).toBe('-');
  });
});

describe('formatSize', () => {
  it.each([
    [268_435_456, '256MB'], [1536 * 1024 ** 2, '1.5GB'], [512 * 1024, '512KB'], [100, '100 bytes'],
  ])('%d bytes → %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });
});

describe('tables', () => {
  it('aligns columns under their headers', () => {
    const lines = table(['A', 'LONGER'], [['xxxxxx', 'y'], ['z', 'w']]).split('\n');
    expect(lines).toHaveLength(3);
    const col = lines[0]!.indexOf('LONGER');
    expect(col).toBeGreaterThan(6);
    expect(lines[1]!.indexOf('y')).toBe(col);
    expect(lines[2]!.indexOf('w')).toBe(col);
  });

  it('lists jobs with next and last run relative to now', () => {
    const job = {
      id: 'job_1', name: 'tick', schedule: 'every 1s', state: 'scheduled', nextRunAt: at(300_000),
      lastRun: { status: 'succeeded', finishedAt: at(-7_200_000), startedAt: null, scheduledAt: at(-7_200_000) },
    } as unknown as Job;
    const out = formatJobs([job], NOW);
    expect(out).toMatch(/^NAME\s+ID\s+SCHEDULE\s+STATE\s+NEXT\s+LAST$/m);
    expect(out).toMatch(/tick\s+job_1\s+every 1s\s+scheduled\s+in 5m\s+succeeded 2h ago/);
    expect(formatJobs([], NOW)).toBe('no jobs');
  });

  it('shows next fire times in UTC and in the zone', () => {
    const out = formatNext([new Date('2026-07-01T07:00:00Z')], 'Europe/Paris', NOW);
    expect(out).toContain('2026-07-01T07:00:00.000Z');
    expect(out).toContain('Wed 2026-07-01 09:00:00 GMT+2');
    expect(out).toContain('LOCAL (Europe/Paris)');
  });
});
