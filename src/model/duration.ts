import { ValidationError } from '../errors';

const UNIT_MS: Record<string, number> = {
  ms: 1, s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
};

/**
 * Parses a duration like `500ms`, `30s`, `5m`, `2h`, `1d`, `1h30m` into milliseconds.
 * @throws ValidationError naming `field` when the text is not a duration.
 */
export function parseDuration(text: string, field = 'duration'): number {
  const s = String(text).trim().toLowerCase();
  const re = /(\d+(?:\.\d+)?)\s*([a-z]+)/g;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    const unit = Object.hasOwn(UNIT_MS, m[2]!) ? UNIT_MS[m[2]!] : undefined;
    if (unit === undefined || s.slice(consumed, m.index).trim() !== '') break;
    total += Number(m[1]) * unit;
    consumed = m.index + m[0].length;
  }
  if (consumed === 0 || s.slice(consumed).trim() !== '' || !Number.isFinite(total)) {
    throw new ValidationError(`${field}: '${text}' is not a duration (use e.g. 500ms, 30s, 5m, 2h)`, field);
  }
  return Math.round(total);
}

const SIZE: Record<string, number> = {
  b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3,
};

/**
 * Parses a size like `256MB`, `1.5GiB`, `512k` or a plain byte count into bytes (binary units).
 * @throws ValidationError naming `field` when the text is not a size.
 */
export function parseSize(text: string, field = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(String(text));
  const unit = m?.[2]?.toLowerCase() ?? '';
  const mult = m ? (unit === '' ? 1 : Object.hasOwn(SIZE, unit) ? SIZE[unit] : undefined) : undefined;
  if (!m || mult === undefined) {
    throw new ValidationError(`${field}: '${text}' is not a size (use e.g. 256MB, 1GB, 512KB)`, field);
  }
  return Math.round(Number(m[1]) * mult);
}

/** A byte count as people write it for `--max-memory` (`256MB`, `1.5GB`, `512KB`, `100 bytes`). */
export function formatSize(bytes: number): string {
  const units: [number, string][] = [[1024 ** 3, 'GB'], [1024 ** 2, 'MB'], [1024, 'KB']];
  for (const [size, unit] of units) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))}${unit}`;
  }
  return `${bytes} bytes`;
}

/** Formats milliseconds for people: `850ms`, `12.3s`, `5m 2s`, `3h 10m`, `2d 4h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}
