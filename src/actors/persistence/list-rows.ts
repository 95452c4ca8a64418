/**
 * The read behind `rae-sched list`'s table: per job only what its columns need, from the records
 * that are cheap to read — the job's head (name, flags, schedule, zone and, since schema 7, its
 * schedule state instants), the status and times of its newest run, and its newest slot (the
 * watermark, as store.ts `listJobsPage` derives it). No job spec is decoded (a spec is msgpack
 * written without shared structures: decoding 10,000 of them was a third of an offline `list`),
 * no state record is read, no run's output is. `--json` prints whole jobs and reads them as before
 * (store.ts `listJobsPage`).
 * @internal
 */
import type { StateInstants } from './schema';
import type { RunTimes } from '../../model/run';
import { decodeRunTimes } from './codecs';
import { inFrame } from './clock-frame';
import { derivedInstants, slotAtOf, type SlotFrame } from './fire-layout';
import { newestKeysOf } from './newest-keys';
import type { JobHead, Tables } from './tables';

/** A job as the `list` table shows it, before presentation (read-view.ts). */
export interface JobRowEntry {
  /** The job's head; its `schedule` and `timezone` are always set (read from the spec when a head lacks them). */
  head: JobHead & { schedule: string; timezone: string | null };
  /** The schedule state as the store knows it (fire-layout.ts `derivedState`), at today's clock offset, as epoch ms. */
  state: StateInstants | null;
  /** The job's newest run in history: its id, status and times. */
  lastRun: RunTimes | null;
}

/** How the store reads instants at today's clock offset (clock-frame.ts). */
export interface RowFrame {
  /** The clock offset now (states). */
  offsetMs: number;
  /** How slot times read (fire-layout.ts). */
  slots: SlotFrame;
}

/** Epoch ms of a stored instant (NaN: none). */
const ms = (v: string | null | undefined): number => (v == null ? NaN : Date.parse(v));

/**
 * The job's stored state instants from the copy its head carries (schema 7), read at today's
 * offset as `inFrame` reads a state record (`tagged`: the state carries a clock offset); a head
 * without one (a read-only open of an older store) has the record read instead. Kept as epoch ms:
 * `list` computes with them and prints none.
 */
function storedState(t: Tables, head: JobHead, offsetMs: number): { state: StateInstants; tagged: boolean } | null {
  const c = head.state;
  if (c === null) return null;
  if (c === undefined) {
    const st = t.states.get(head.id);
    if (st === undefined) return null;
    const s = inFrame(st, offsetMs);
    return { state: { last: ms(s.lastSlotAt), next: ms(s.nextRunAt), anchor: ms(s.anchorAt) }, tagged: s.offsetMs !== undefined };
  }
  if (c.offsetMs === undefined || c.offsetMs === offsetMs) return { state: c, tagged: c.offsetMs !== undefined };
  const by = offsetMs - c.offsetMs;
  return { state: { last: c.last + by, next: c.next + by, anchor: c.anchor + by }, tagged: true };
}

/**
 * Up to `limit` jobs after `afterId` (exclusive), in id order, as {@link JobRowEntry}s, and whether
 * more follow. Call inside one read snapshot. Newest runs and slots are found for the whole page in
 * one walk each (newest-keys.ts), not by a range read per job.
 */
export function listRowsTx(t: Tables, frame: RowFrame, afterId: string | null, limit: number): { entries: JobRowEntry[]; more: boolean } {
  const heads: Array<{ head: JobRowEntry['head']; stored: ReturnType<typeof storedState> }> = [];
  let more = false;
  for (const { key, value: head } of t.heads.getRange({ start: afterId ?? undefined, limit: limit + 2 })) {
    if (key === afterId) continue;
    if (heads.length >= limit) {
      more = true;
      break;
    }
    let row = head as JobRowEntry['head'];
    if (head.schedule === undefined) {
      // A head from before heads carried the schedule (a read-only open of an old store).
      const job = t.jobs.get(key);
      if (job === undefined) continue;
      row = { ...head, schedule: job.schedule, timezone: job.timezone };
    } else if (head.timezone === undefined) {
      row = { ...head, schedule: head.schedule, timezone: null };
    }
    heads.push({ head: row, stored: storedState(t, head, frame.offsetMs) });
  }
  // Fires write no state (fire-layout.ts): the watermark is the newest slot's, when later.
  const slots = newestKeysOf(t.slots, heads.filter(({ stored }) => stored !== null).map(({ head }) => head.id));
  const runs = newestKeysOf(t.runs, heads.map(({ head }) => head.id));
  const entries = heads.map(({ head, stored }): JobRowEntry => {
    const at = slots.get(head.id);
    const state = stored === null ? null : at === undefined ? stored.state
      : derivedInstants(stored.state, slotAtOf(t, head.id, at, frame.slots, stored.tagged));
    const runId = runs.get(head.id);
    const bytes = runId === undefined ? undefined : t.runsRaw.getBinaryFast([head.id, runId]);
    return { head, state, lastRun: bytes === undefined ? null : decodeRunTimes(bytes) };
  });
  return { entries, more };
}
