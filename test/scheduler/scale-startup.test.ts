/**
 * Start-up and reads at scale, the parts that need no threads: `nextRunAtOf` parses a job's
 * schedule only when the stored next slot cannot be shown as it is (an offline `list` of 50 jobs
 * loads no cron library), a job's state is told from its schedule text, and a scheduler that is
 * still loading its store has no hang deadline on the messages waiting for it.
 */
import { instantsOf, nextRunAtOf, type LazySchedule } from '../../src/actors/scheduler/next-run';
import { jobState } from '../../src/actors/scheduler/runs';
import { ScheduleMath } from '../../src/actors/parser/schedule';
import { hangAfter, HANG_AFTER_MS } from '../../src/scheduler-tree';

const NOW = Date.parse('2030-01-01T12:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const job = (schedule: string, over: Partial<{ enabled: boolean; completedAt: string | null }> = {}) =>
  ({ schedule, enabled: true, completedAt: null, createdAt: iso(NOW - 86_400_000), ...over });

function lazy(text: string): LazySchedule & { parses: number } {
  const math = new ScheduleMath();
  const l = {
    parses: 0,
    get: () => {
      l.parses++;
      return math.parse(text, { tz: 'UTC', now: NOW });
    },
    nextFire: (s: Parameters<ScheduleMath['nextFire']>[0], a: number, b?: number) => math.nextFire(s, a, b),
  };
  return l;
}

describe('nextRunAtOf', () => {
  it('offline, stored next slot ahead: shown as stored, nothing parsed', () => {
    const l = lazy('*/5 * * * *');
    const state = instantsOf({ jobId: 'j', lastSlotAt: iso(NOW - 60_000), nextRunAt: iso(NOW + 240_000), anchorAt: null });
    expect(nextRunAtOf(job('*/5 * * * *'), l, state, false, NOW)).toBe(NOW + 240_000);
    expect(l.parses).toBe(0);
  });

  it('offline, stored next slot passed: computed from now as start-up would (one parse)', () => {
    const l = lazy('*/5 * * * *');
    const state = instantsOf({ jobId: 'j', lastSlotAt: iso(NOW - 600_000), nextRunAt: iso(NOW - 300_000), anchorAt: null });
    expect(nextRunAtOf(job('*/5 * * * *'), l, state, false, NOW)).toBe(NOW + 300_000);
    expect(l.parses).toBe(1);
  });

  it('active: the stored slot, unless the stored schedule no longer parses', () => {
    const state = instantsOf({ jobId: 'j', lastSlotAt: null, nextRunAt: iso(NOW + 1000), anchorAt: null });
    expect(nextRunAtOf(job('every 1s'), lazy('every 1s'), state, true, NOW)).toBe(NOW + 1000);
    expect(nextRunAtOf(job('every banana'), { get: () => undefined, nextFire: () => 0 }, state, true, NOW)).toBeNull();
  });

  it('event-only, paused and done jobs have none, without a parse', () => {
    const l = lazy('never');
    const state = instantsOf({ jobId: 'j', lastSlotAt: null, nextRunAt: iso(NOW + 1000), anchorAt: null });
    expect(nextRunAtOf(job('  NEVER '), l, state, false, NOW)).toBeNull();
    expect(nextRunAtOf(job('@reboot'), l, state, true, NOW)).toBeNull();
    expect(nextRunAtOf(job('every 1s', { enabled: false }), l, state, false, NOW)).toBeNull();
    expect(nextRunAtOf(job('every 1s', { completedAt: iso(NOW) }), l, state, false, NOW)).toBeNull();
    expect(l.parses).toBe(0);
  });
});

describe('jobState from the schedule text', () => {
  it.each([
    ['@reboot', {}, 'waiting'], ['never', {}, 'waiting'], [' Never  ', {}, 'waiting'], ['every 5 minutes', {}, 'scheduled'],
    ['every 5 minutes', { enabled: false }, 'paused'], ['@reboot', { completedAt: iso(NOW) }, 'done'], ['no such form', {}, 'scheduled'],
  ] as const)('%s %j → %s', (text, over, state) => {
    expect(jobState(job(text, over))).toBe(state);
  });
});

describe('hang deadline while the store loads', () => {
  it('messages delivered while the scheduler loads have none; afterwards the usual one', () => {
    let loading = true;
    const deadline = hangAfter('scheduler', undefined, () => loading);
    expect(deadline('started')).toBe(Infinity);
    expect(deadline('slotsDue')).toBe(Infinity);
    loading = false;
    expect(deadline('started')).toBe(HANG_AFTER_MS);
    // Messages that never have one keep none.
    expect(deadline('reload')).toBe(Infinity);
    expect(hangAfter('scheduler', 400)('started')).toBe(400);
  });
});
