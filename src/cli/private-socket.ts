/**
 * Binding the control socket with no permission window. A Unix socket file is created by bind(2)
 * with mode 0777 & ~umask; chmod'ing it afterwards leaves a moment in which anyone who can reach the
 * directory may connect — and whoever connects drives a scheduler that runs commands (as root, for a
 * root daemon). So the bind runs under umask 077: the socket is owner-only from its first instant,
 * whatever the caller's umask, and is then narrowed to 0600. (The data directory itself is also
 * created 0700, so a second barrier stands in front of it.)
 */
import { chmodSync } from 'node:fs';

/**
 * Runs `bind` — which must bind `socketPath` synchronously, as `net.Server.listen(path)` does — under
 * umask 077, then restores the umask and sets the socket to 0600. The umask is process-wide and
 * only settable on the main thread; it is held for that synchronous call only.
 */
export function bindPrivately<T>(socketPath: string, bind: () => T): T {
  const previous = process.umask(0o077);
  let result: T;
  try {
    result = bind();
  } finally {
    process.umask(previous);
  }
  return result;
}

/** Narrows the bound socket to owner read/write. */
export function finishPrivateSocket(socketPath: string): void {
  chmodSync(socketPath, 0o600);
}
