/**
 * Stop signals that arrive before the daemon is ready for them. `bin/rae-sched` installs these
 * handlers before it loads anything else when the command is `daemon`, so a SIGTERM in the first
 * moments of start-up is remembered (and honoured once the daemon can shut down cleanly) instead of
 * killing the process half-started. Only a signal during Node's own bootstrap, before any of our
 * code runs, still ends the process by the signal (exit 143), and then nothing has been created yet.
 */

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
let first: NodeJS.Signals | null = null;
let installed = false;
const waiters: Array<(sig: NodeJS.Signals) => void> = [];

function record(sig: NodeJS.Signals): void {
  if (first === null) first = sig;
  for (const w of waiters.splice(0)) w(sig);
}

/** Installs the handlers (idempotent). From then on SIGINT/SIGTERM are recorded, not fatal. */
export function catchStopSignals(): void {
  if (installed) return;
  installed = true;
  for (const sig of STOP_SIGNALS) process.on(sig, record);
}

/** The first stop signal received so far, or null. */
export function stopSignalReceived(): NodeJS.Signals | null {
  return first;
}

/** Resolves with the first stop signal (at once if one already came). */
export function nextStopSignal(): Promise<NodeJS.Signals> {
  return first !== null ? Promise.resolve(first) : new Promise((resolve) => waiters.push(resolve));
}

/** Removes the handlers: signals get Node's default behaviour back. */
export function releaseStopSignals(): void {
  if (!installed) return;
  installed = false;
  for (const sig of STOP_SIGNALS) process.off(sig, record);
  first = null;
}
