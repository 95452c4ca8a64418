/**
 * Libraries only some CLI commands need, loaded on demand.
 *
 * rxjs on demand. Its CommonJS bundle loads every operator at once, which costs a CLI command
 * 50–250 ms of start-up on this machine; only `events` needs it, so the others never load it.
 */
export function loadRxjs(): typeof import('rxjs') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('rxjs') as typeof import('rxjs');
}

/** luxon on demand (30–50 ms to load here): only `next` formats dates in a zone. */
export function loadLuxon(): typeof import('luxon') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('luxon') as typeof import('luxon');
}
