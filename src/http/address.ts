/** The `--http HOST:PORT` address (its own module: the CLI parses it without loading the server). */
import { ValidationError } from '../errors';

/** Parses `HOST:PORT`, `PORT` or `[V6]:PORT` (the `--http` option). */
export function parseListenAddress(text: string, what = '--http'): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]+):)?(\d{1,5})$/.exec(text.trim());
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || port > 65535) {
    throw new ValidationError(`${what}: '${text}' is not HOST:PORT (like 127.0.0.1:7070)`, what);
  }
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, ''), port };
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
