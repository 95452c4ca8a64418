/**
 * The parser actor's message handlers. Placement-agnostic: the runtime hosts them in a worker thread
 * (`placement: 'thread'`, the runtime's generic entry) or on the main thread. Payloads and replies are plain data.
 */
import { ValidationError } from '../../errors';
import { type Schedule, ScheduleMath } from './schedule';

/** The parser actor's protocol: one handler per message. */
// A type alias, not an interface: the runtime's `Handlers` is an index signature, which only
// object type aliases satisfy.
export type ParserHandlers = {
  /** Validates schedule text. @throws ValidationError */
  parse(p: { text: string; tz?: string | null; now: number }): Schedule;
  /** Up to `count` fire times strictly after `after` (fewer when the schedule ends). */
  next(p: { schedule: Schedule; after: number; anchor?: number; count: number }): number[];
  /** Fire times in (from, to], at most `limit`. */
  slots(p: { schedule: Schedule; from: number; to: number; limit: number; anchor?: number }): number[];
  /** Answers at once: the mailbox is being served (health's heartbeat). */
  heartbeat(p: Record<string, never>): true;
};

const MAX_COUNT = 100_000;

function checkCount(name: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_COUNT) {
    throw new ValidationError(`${name}: must be a whole number from 0 to ${MAX_COUNT}`, name);
  }
  return n;
}

function checkInstant(name: string, t: unknown): number {
  // Intl and cron-parser throw RangeErrors past JS's date range (±8.64e15 ms): refuse it here.
  if (typeof t !== 'number' || !Number.isFinite(t) || Math.abs(t) > 8.64e15) {
    throw new ValidationError(`${name}: must be epoch milliseconds`, name);
  }
  return t;
}

function checkSchedule(s: unknown): Schedule {
  const k = (s as Schedule | null)?.kind;
  if (k !== 'cron' && k !== 'interval' && k !== 'once' && k !== 'event') {
    throw new ValidationError('schedule: not a parsed Schedule (call parse first)', 'schedule');
  }
  return s as Schedule;
}

/**
 * Creates the handlers with their own cache of compiled schedules (owned by this actor instance).
 * @example system.spawn({ name: 'parser', logic: actorModule<typeof import('./actor')>(path).logic('createParserHandlers'), placement: 'thread' })
 */
export function createParserHandlers(): ParserHandlers {
  const math = new ScheduleMath();
  return {
    heartbeat: () => true,
    parse: (p) => math.parse(p.text, { tz: p.tz ?? null, now: p.now }),
    next: (p) => {
      const s = checkSchedule(p.schedule);
      const out: number[] = [];
      let t = checkInstant('after', p.after);
      if (p.anchor !== undefined) checkInstant('anchor', p.anchor);
      for (let i = checkCount('count', p.count); i > 0; i--) {
        const n = math.nextFire(s, t, s.kind === 'interval' ? p.anchor ?? p.after : p.anchor);
        if (n === null) break;
        out.push(n);
        t = n;
      }
      return out;
    },
    slots: (p) => {
      if (p.anchor !== undefined) checkInstant('anchor', p.anchor);
      return math.slotsBetween(checkSchedule(p.schedule), checkInstant('from', p.from), checkInstant('to', p.to),
        checkCount('limit', p.limit), p.anchor);
    },
  };
}
