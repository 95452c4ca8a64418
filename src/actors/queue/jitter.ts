/**
 * Per-fire jitter (`--jitter DUR`), deterministic per slot: the delay is a hash of (jobId, slot
 * time), so a restart, a timeline rebuild or a replay computes the same fire time — a random draw
 * would move the fire and could fire one slot twice across a restart.
 */
import { ValidationError } from '../../errors';

/**
 * The jitter delay of one slot: an integer in [0, jitterMs) (0 when jitterMs < 1).
 *
 * @example
 * const fireAt = slotAt + jitterFor(job.id, slotAt, job.jitterMs);
 */
export function jitterFor(jobId: string, slotAt: number, jitterMs: number): number {
  if (typeof jitterMs !== 'number' || !Number.isFinite(jitterMs) || jitterMs < 0) {
    throw new ValidationError(`jitterMs must be a finite number >= 0, got ${String(jitterMs)}`, 'jitterMs');
  }
  if (!Number.isFinite(slotAt)) throw new ValidationError(`slotAt must be finite epoch ms, got ${String(slotAt)}`, 'slotAt');
  if (jitterMs < 1) return 0;
  const u = hash32(`${jobId}\u0000${slotAt}`) / 2 ** 32;
  return Math.min(Math.floor(u * jitterMs), Math.ceil(jitterMs) - 1);
}

/** FNV-1a over UTF-16 code units, then murmur3's finaliser so nearby slots spread evenly. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
