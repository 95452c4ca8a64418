import { randomBytes } from 'node:crypto';

/**
 * Time-sortable ids (ULID-like): 10 chars of base-32 time, then 12 random chars. Sorting ids
 * lexicographically sorts them by creation time, which the store relies on for "newest first".
 * `prefix` makes ids self-describing (`job_…`, `run_…`).
 */
export function newId(prefix: string, nowMs: number = Date.now()): string {
  const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
  let t = Math.max(0, Math.floor(nowMs));
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(12);
  let rand = '';
  for (const b of bytes) rand += alphabet[b % 32];
  return `${prefix}_${time}${rand}`;
}
