/**
 * Two small pieces of the scheduler's lifecycle: the engine's messages held until its start-up is
 * done, and a shutdown step bounded by a real-time deadline.
 */
import { LATE, withDeadline } from './runtime/deadline';

/** `handlers` whose every message waits for `loaded` first (a failed start-up: each rejects with its error). */
export function afterStartUp<H extends Record<string, unknown>>(handlers: H, loaded: Promise<void>): H {
  const out: Record<string, unknown> = { ...handlers };
  for (const [type, h] of Object.entries(handlers)) {
    if (type.startsWith('$') || typeof h !== 'function') continue;
    out[type] = async (p: unknown) => {
      await loaded;
      return (h as (p: unknown) => unknown)(p);
    };
  }
  return out as H;
}

/**
 * `p`, or undefined once `ms` of REAL time passed (then `onTimeout` says why). Shutdown's deadlines
 * are real time, as the hang watchdog's: a virtual clock that stands still must not hold a stop.
 */
export async function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T | undefined> {
  const r = await withDeadline(p, ms);
  if (r !== LATE) return r;
  onTimeout();
  return undefined;
}
