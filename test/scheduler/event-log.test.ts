/**
 * The scheduler's event log (src/scheduler-log.ts): a line per finished run while runs are few,
 * one folded line per second past RUN_LINES_PER_WINDOW, failures with a budget of their own.
 */
import { VirtualClock } from '../../src/runtime/clock';
import { EventLog, RUN_LINES_PER_WINDOW, RUN_LINE_WINDOW_MS } from '../../src/scheduler-log';
import type { Logger } from '../../src/model/logger';
import type { Run, RunStatus } from '../../src/model/run';

interface Line { level: string; obj: Record<string, unknown>; msg: string }

function recorder(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (obj: object, msg?: string) => { lines.push({ level, obj: obj as Record<string, unknown>, msg: msg ?? '' }); };
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

let seq = 0;
function finished(status: RunStatus) {
  const id = `run_${String(++seq).padStart(6, '0')}`;
  const run: Run = { id, jobId: 'job_1', attempt: 1, trigger: 'schedule', status, exitCode: status === 'succeeded' ? 0 : 1, signal: null,
    scheduledAt: '2030-01-01T00:00:00.000Z', startedAt: null, finishedAt: null, durationMs: 1, peakMemoryBytes: null, error: null, output: '' };
  return { type: 'run.finished' as const, at: '2030-01-01T00:00:00.000Z', run };
}

describe('EventLog', () => {
  it('writes a line per run while runs are few', async () => {
    const clock = new VirtualClock();
    const { logger, lines } = recorder();
    const log = new EventLog(logger, clock);
    for (let i = 0; i < 5; i++) {
      log.write(finished('succeeded'));
      await clock.advance(RUN_LINE_WINDOW_MS);
    }
    log.write(finished('failed'));
    expect(lines.map((l) => `${l.level} ${l.msg}`)).toEqual([...Array(5).fill('info run.finished'), 'warn run.finished']);
    expect(lines[5]!.obj).toMatchObject({ status: 'failed', exitCode: 1, jobId: 'job_1' });
  });

  it('folds a burst into one line at the end of its second, counting every run by status', async () => {
    const clock = new VirtualClock();
    const { logger, lines } = recorder();
    const log = new EventLog(logger, clock);
    for (let i = 0; i < 1000; i++) log.write(finished('succeeded'));
    // Failures have their own budget: the first ones of a burst of successes are still written.
    for (let i = 0; i < RUN_LINES_PER_WINDOW + 7; i++) log.write(finished('failed'));
    expect(lines.filter((l) => l.msg === 'run.finished')).toHaveLength(2 * RUN_LINES_PER_WINDOW);
    expect(lines.filter((l) => l.msg === 'run.finished.folded')).toHaveLength(0);
    await clock.advance(RUN_LINE_WINDOW_MS);
    const folded = lines.filter((l) => l.msg === 'run.finished.folded');
    expect(folded).toHaveLength(1);
    expect(folded[0]!.level).toBe('warn');
    expect(folded[0]!.obj).toMatchObject({ folded: 1000 - RUN_LINES_PER_WINDOW + 7, byStatus: { succeeded: 1000 - RUN_LINES_PER_WINDOW, failed: 7 } });
    // The next second starts a fresh budget.
    log.write(finished('succeeded'));
    expect(lines.at(-1)!.msg).toBe('run.finished');
    expect(clock.pendingTimers).toBe(0);
  });

  it('writes what is folded at shutdown, and nothing more after', async () => {
    const clock = new VirtualClock();
    const { logger, lines } = recorder();
    const log = new EventLog(logger, clock);
    for (let i = 0; i < RUN_LINES_PER_WINDOW + 3; i++) log.write(finished('succeeded'));
    log.flush();
    expect(lines.at(-1)).toMatchObject({ level: 'info', msg: 'run.finished.folded', obj: { folded: 3, byStatus: { succeeded: 3 } } });
    expect(clock.pendingTimers).toBe(0);
    const n = lines.length;
    await clock.advance(RUN_LINE_WINDOW_MS * 2);
    log.flush();
    expect(lines).toHaveLength(n);
  });

  it('starts a new window when the clock steps back', () => {
    const clock = new VirtualClock();
    const { logger, lines } = recorder();
    const log = new EventLog(logger, clock);
    for (let i = 0; i < RUN_LINES_PER_WINDOW + 1; i++) log.write(finished('succeeded'));
    clock.jump(-60_000);
    log.write(finished('succeeded'));
    expect(lines.map((l) => l.msg).slice(-2)).toEqual(['run.finished.folded', 'run.finished']);
  });
});
