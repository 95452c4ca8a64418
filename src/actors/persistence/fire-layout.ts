/**
 * Reading the store's fire layout (schema version 4, docs/persistence.md "Records per run"):
 *
 * - A fire writes TWO records: its slot (`slots`, the durable `(job, slot)` key) and its run,
 *   `queued`, in `unfinished` (key: run id, value: the run). The run has no `runs` or `runJob` entry
 *   until its final record moves it there (batches.ts `putRunTx`). Stores of version 3 and before
 *   hold a job id in `unfinished` (the run itself in `runs`): both are read here.
 * - A fire writes no schedule state: the stored state is a lower bound, and the job's watermark is
 *   the newer of its `lastSlotAt` and the job's newest slot (every handled slot has a record:
 *   fired, skipped, missed, caught-up). The next slot follows from the watermark and the schedule,
 *   so a stored `nextRunAt` not after the watermark is stale and reads as unknown (null).
 * @internal
 */
import type { Run } from '../../model/run';
import type { ScheduleState, StateInstants } from './schema';
import { newestFirst, type Tables } from './tables';
import { compactRunOfJob, decodeRun, isCompact, slotTag } from './codecs';
import { slotShift } from './clock-frame';

/** A value of the `unfinished` table: the run (v4), or the job id of a run kept in `runs` (v3). */
export type HeldValue = Run | string;

/** Run ids sort by creation time: newest first. */
const newestIdFirst = (a: Run, b: Run): number => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** The job an `unfinished` value names. */
export const heldJobOf = (v: HeldValue): string => (typeof v === 'string' ? v : v.jobId);

/** The unfinished run an `unfinished` entry stands for (from `runs` for a version 3 entry). */
export function heldRun(t: Tables, runId: string, v: HeldValue): Run | undefined {
  return typeof v === 'string' ? t.runs.get([v, runId]) : v;
}

/** Every unfinished run, in run id order. */
export function unfinishedRuns(t: Tables): Run[] {
  const out: Run[] = [];
  for (const { key, value } of t.unfinished.getRange({})) {
    const run = heldRun(t, key, value);
    if (run !== undefined) out.push(run);
  }
  return out;
}

/**
 * The job's unfinished runs that live only in `unfinished` (v4), newest first. A walk over the
 * stored bytes of the runs in flight (bounded by `maxQueuedJobs` plus the concurrency), not of
 * history: each value's job id is compared in place and only the job's own runs are decoded — with
 * 1,000 runs in flight, decoding every one (output included) for each `status` or `history` was
 * the cost of the read.
 */
export function unfinishedOnlyOf(t: Tables, jobId: string): Run[] {
  const out: Run[] = [];
  const id = Buffer.from(jobId, 'utf8');
  for (const { key, value: bytes } of t.unfinishedRaw.getRange({})) {
    const mine = compactRunOfJob(bytes, id);
    if (mine === false) continue;
    // An older value (a v3 job id, a msgpack run) is decoded as the table's encoder would.
    const value = mine === true ? decodeRun(bytes) : t.unfinished.get(key);
    if (value !== undefined && typeof value !== 'string' && value.jobId === jobId) out.push(value);
  }
  return out.sort(newestIdFirst);
}

/**
 * How many runs live in `unfinished` only (v4; v3 entries are counted in `runs`): a walk over the
 * stored bytes of the runs in flight, nothing decoded.
 */
export function runsInFlightOnly(t: Tables): number {
  let n = 0;
  for (const { value } of t.unfinishedRaw.getRange({})) if (isCompact(value)) n++;
  return n;
}

/** A run by id, wherever it lives. */
export function runById(t: Tables, id: string): Run | undefined {
  const held = t.unfinished.get(id);
  if (held !== undefined) return heldRun(t, id, held);
  const jobId = t.runJob.get(id);
  return jobId === undefined ? undefined : t.runs.get([jobId, id]);
}

/** A job's runs newest first: history merged with the runs still in flight (v4). */
export function runsOf(t: Tables, jobId: string, limit?: number): Run[] {
  const stored = [...t.runs.getRange(newestFirst(jobId, limit)).map(({ value }) => value)];
  const live = unfinishedOnlyOf(t, jobId);
  if (live.length === 0) return stored;
  const all = [...live, ...stored].sort(newestIdFirst);
  return limit === undefined ? all : all.slice(0, limit);
}

/** Stored records skipped at most looking for a job's last final run (unfinished v3 entries of `runs`). */
const LAST_RUN_SCAN = 64;

/**
 * The job's newest run with a final outcome (`lastRun` of `list` and `status`), or null. Since
 * schema 4 `runs` holds final records only (a run in flight lives in `unfinished`), so this is the
 * newest entry; a store written before may still hold unfinished records there, which are skipped:
 * a run that is only queued has not run, and the store alone cannot tell whether one is executing
 * (only the scheduler that holds it knows: docs/jobs.md "Last run").
 */
export function lastFinalRun(t: Tables, jobId: string): Run | null {
  for (const { value } of t.runs.getRange(newestFirst(jobId, LAST_RUN_SCAN))) {
    if (value.status !== 'queued' && value.status !== 'running') return value;
  }
  return null;
}

/**
 * A stored next slot more than this ahead of now cannot have been fired: fires are committed at
 * most the lead window (900 ms, preclaims.ts `LeadWindow.MAX_MS`) ahead. Start-up reads the newest
 * slot only for the other jobs (kept well above the lead, for a clock that moved a little back).
 */
export const STATE_LOOKAHEAD_MS = 5000;

/** How the store reads slot times at today's clock offset (clock-frame.ts). */
export interface SlotFrame {
  /** The clock offset now. */
  offsetMs: number;
  /** The offset untagged slots of interval jobs are read at (`clockSlotBaseMs`). */
  baseMs: number;
  /** No clock step was ever handled: every tag, the base and the offset are 0 (keys alone suffice). */
  wall?: boolean;
}

/** Slots are read as stored (no clock step handled, or a caller that does not shift). */
const WALL: SlotFrame = { offsetMs: 0, baseMs: 0, wall: true };

/**
 * Epoch ms of the job's newest recorded slot (NaN: none), read at today's clock offset: moved by
 * the steps since its tag (clock-frame.ts `slotShift`; `stateTagged`: the job's state is tagged,
 * so an untagged slot of it is an interval slot from before tags). The slot with the highest key
 * is the newest one: the backward fence keeps that true (clock-frame.ts). Only the value's first
 * bytes are looked at.
 */
export function newestSlotAt(t: Tables, jobId: string, frame: SlotFrame = WALL, stateTagged = false): number {
  if (frame.wall === true) {
    for (const key of t.slots.getKeys(newestFirst(jobId, 1))) return Date.parse(key[1]);
    return NaN;
  }
  for (const { key, value } of t.slotsRaw.getRange(newestFirst(jobId, 1))) {
    return Date.parse(key[1]) + slotShift(slotTag(value), frame.offsetMs, stateTagged, frame.baseMs);
  }
  return NaN;
}

/**
 * {@link derivedState}'s rule on instants: the watermark moved to the newest slot when that is
 * later, the stored next slot kept only if it is after it.
 */
export function derivedInstants(stored: StateInstants, slot: number): StateInstants {
  if (Number.isNaN(slot) || slot <= stored.last) return stored;
  return { last: slot, next: stored.next > slot ? stored.next : NaN, anchor: stored.anchor };
}

/**
 * Epoch ms of the job's slot recorded at `at` (its key), read at today's clock offset as
 * {@link newestSlotAt} reads the newest one: for a caller that found the key itself (newest-keys.ts).
 */
export function slotAtOf(t: Tables, jobId: string, at: string, frame: SlotFrame = WALL, stateTagged = false): number {
  if (frame.wall === true) return Date.parse(at);
  const bytes = t.slotsRaw.getBinaryFast([jobId, at]);
  return bytes === undefined ? NaN : Date.parse(at) + slotShift(slotTag(bytes), frame.offsetMs, stateTagged, frame.baseMs);
}

/**
 * The job's schedule state as the store knows it: the stored one (already read at today's clock
 * offset) with its watermark moved to the newest slot when that is later (fires write no state,
 * see the file comment). `newest` may be given when the caller read it already.
 */
export function derivedState(t: Tables, stored: ScheduleState | null, frame: SlotFrame = WALL, newest?: number): ScheduleState | null {
  if (stored === null) return null;
  const slot = newest ?? newestSlotAt(t, stored.jobId, frame, stored.offsetMs !== undefined);
  const last = stored.lastSlotAt === null ? NaN : Date.parse(stored.lastSlotAt);
  if (Number.isNaN(slot) || slot <= last) return stored;
  const lastSlotAt = new Date(slot).toISOString();
  const next = stored.nextRunAt === null ? NaN : Date.parse(stored.nextRunAt);
  return { ...stored, lastSlotAt, nextRunAt: next > slot ? stored.nextRunAt : null };
}
