/**
 * How a supervisor starts and stops one child under its deadlines: a start that a stop can abort
 * (a stop wins over a start), and a graceful stop that turns into a kill past `shutdownMs`. Both
 * wait on the supervisor's Clock (shutdown timeouts are supervision time, as in OTP).
 * @internal
 */
import type { Clock, TimerHandle } from './clock';
import type { Child } from './supervisor';

/**
 * `start(ac.signal)`; once `ac` aborts (a stop), its end within `graceMs` — past that it is
 * abandoned. Either way an aborted start rejects with the abort's reason, and a child it yields
 * (now or later) goes to `discard`: nothing of it is left running.
 * @internal
 */
export async function abortableStart(
  start: (signal: AbortSignal) => Promise<Child>, ac: AbortController, graceMs: number, clock: Clock, discard: (c: Child) => void,
): Promise<Child> {
  const started = start(ac.signal);
  let handle: TimerHandle | undefined;
  const abandoned = new Promise<'abandoned'>((resolve) => {
    ac.signal.addEventListener('abort', () => {
      if (Number.isFinite(graceMs)) handle = clock.setTimeout(() => resolve('abandoned'), graceMs);
    }, { once: true });
  });
  let child: Child | undefined;
  let error: unknown;
  try {
    const r = await Promise.race([started, abandoned]);
    if (r !== 'abandoned') child = r;
  } catch (err) {
    error = err;
  } finally {
    if (handle !== undefined) clock.clearTimeout(handle);
  }
  if (!ac.signal.aborted) {
    if (child === undefined) throw error;
    return child;
  }
  started.then(discard, () => undefined);
  throw ac.signal.reason;
}

/** `child.stop()`, then `kill()` once `shutdownMs` passed (`onKill` first). @internal */
export async function stopWithin(child: Child, shutdownMs: number, clock: Clock, onKill: () => void): Promise<void> {
  let handle: TimerHandle | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    if (Number.isFinite(shutdownMs)) handle = clock.setTimeout(() => resolve('timeout'), shutdownMs);
  });
  const outcome = await Promise.race([child.stop().then(() => 'stopped', () => 'stopped'), timedOut]);
  if (handle !== undefined) clock.clearTimeout(handle);
  if (outcome === 'timeout') {
    onKill();
    try { await child.kill?.(); } catch { /* already dead */ }
  }
}
