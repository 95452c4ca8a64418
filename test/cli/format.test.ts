/** Output for people: relative times and aligned tables. */
import { formatJobs, formatNext, formatRuns, formatSize, formatWhy, relativeTime, scheduleText, table } from '../../src/cli/format';
import { describeEvent } from '../../src/cli/commands/system';
import type { SchedulerEvent } from '../../src/model/events';
import type { TriggerStatus } from '../../src/model/trigger-status';
import type { Job } from '../../src/model/job';
import type { Run } from '../../src/model/run';

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

  it('measures wide characters as two cells and ANSI colours as none', () => {
    // '日本' is 2 characters, 4 cells; the coloured 'ok' is 11 characters, 2 cells.
    const lines = table(['NAME', 'X'], [['日本', 'a'], ['\u001b[32mok\u001b[39m', 'b'], ['abcd', 'c']]).split('\n');
    expect(lines[1]).toBe('日本  a');
    expect(lines[2]).toBe('\u001b[32mok\u001b[39m    b');
    expect(lines[3]).toBe('abcd  c');
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

describe('history and events for people', () => {
  const run = (over: Partial<Run>): Run => ({
    id: 'run_1', jobId: 'job_1', attempt: 1, trigger: 'schedule', status: 'succeeded', exitCode: 0, signal: null,
    scheduledAt: at(-60_000), startedAt: at(-60_000), finishedAt: at(-59_000), durationMs: 900, peakMemoryBytes: null,
    error: null, output: '', ...over,
  });

  it('shows a run that never started as not started', () => {
    const text = formatRuns([
      run({ id: 'run_s', status: 'skipped', startedAt: null, durationMs: null, exitCode: null, error: 'previous run still running' }),
      run({ id: 'run_q', status: 'queued', startedAt: null, finishedAt: null, durationMs: null, exitCode: null, scheduledAt: at(5000) }),
      run({ id: 'run_ok' }),
    ], NOW).split('\n');
    expect(text[1]).toMatch(/^run_s\s+skipped\s+schedule\s+1\s+not started\s+-\s+-$/);
    expect(text[2]).toMatch(/^run_q\s+queued\s+schedule\s+1\s+not started \(due in 5s\)/);
    expect(text[3]).toMatch(/^run_ok\s+succeeded\s+schedule\s+1\s+1m ago\s+900ms\s+0$/);
  });

  it('names the job in event lines when the name is known', () => {
    const ev: SchedulerEvent = { type: 'run.finished', at: at(0), run: run({ exitCode: 2, status: 'failed' }) };
    expect(describeEvent(ev, 'backup')).toContain('run_1 backup (job_1) failed exit 2');
    expect(describeEvent(ev)).toContain('run_1 job job_1 failed exit 2');
  });

  it('keeps columns aligned with wide characters (CJK, emoji)', () => {
    const job = (name: string) => ({ name, id: 'job_x', schedule: 'never', state: 'waiting', nextRunAt: null, lastRun: null }) as unknown as Job;
    const lines = formatJobs([job('日本語ジョブ'), job('plain'), job('🚀rocket')], NOW).split('\n');
    // Display columns: a CJK character or an emoji takes two.
    const width = (s: string) => [...s].reduce((w, ch) => w + (/[\u3000-\u9fff\u{1f300}-\u{1faff}]/u.test(ch) ? 2 : 1), 0);
    const idColumn = lines.map((l) => width(l.slice(0, l.indexOf('job_x') < 0 ? l.indexOf('ID') : l.indexOf('job_x'))));
    expect(new Set(idColumn).size).toBe(1);
  });
});

describe('why of a trigger job', () => {
  it('lists each trigger with its last fire, its reason and the runs it caused', () => {
    const job = {
      id: 'job_1', name: 'ingest', schedule: 'never', timezone: null, state: 'waiting',
      triggers: [{ type: 'watch', paths: ['/in'] }, { type: 'after', job: 'up', on: 'failed' }],
    } as unknown as Job;
    const triggers: TriggerStatus[] = [
      { index: 0, trigger: job.triggers[0]!, text: 'watch /in', lastFiredAt: at(-60_000), lastReason: 'watch: /in/a changed',
        lastRunId: 'run_3', fires: 3, runs: 2, skipped: 1, recentRunIds: ['run_3', 'run_1'] },
      { index: 1, trigger: job.triggers[1]!, text: 'after up failed', lastFiredAt: null, lastReason: null, lastRunId: null,
        fires: 0, runs: 0, skipped: 0, recentRunIds: [], upstreamExists: false },
    ];
    const text = formatWhy({ job, slots: [], nextRunAt: null, blockers: [], triggers }, NOW);
    expect(text).toContain('triggers:\n  - watch /in — last fired 1m ago (run_3), 3 fires: 2 runs, 1 skipped (overlap)\n' +
      '      reason: watch: /in/a changed\n      runs:   run_3, run_1\n' +
      "  - after up failed — never fired — 'up' no longer exists: it can never fire");
  });
});

describe('scheduleText', () => {
  it('shows the words of a one-time schedule beside the instant, in the job\'s zone; other schedules as stored', () => {
    expect(scheduleText({ schedule: 'at 2026-12-02T08:00:00.000Z', scheduleText: 'tomorrow at 9am', timezone: 'Europe/Paris' }))
      .toBe('tomorrow at 9am (2026-12-02 09:00 Europe/Paris)');
    expect(scheduleText({ schedule: 'at 2026-12-01T11:20:28.512Z', scheduleText: 'in 10 minutes', timezone: 'UTC' }))
      .toBe('in 10 minutes (2026-12-01 11:20:28 UTC)');
    // Stored before the words were kept, or typed as the canonical text itself.
    expect(scheduleText({ schedule: 'at 2026-12-02T08:00:00.000Z', timezone: null })).toBe('at 2026-12-02T08:00:00.000Z');
    expect(scheduleText({ schedule: '*/5 * * * *', scheduleText: null, timezone: null })).toBe('*/5 * * * *');
  });
});
