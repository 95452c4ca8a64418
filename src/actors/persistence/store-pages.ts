/**
 * The Store's paged reads, each run inside one read snapshot (store.ts `#read`): the start-up page
 * the scheduler loads its index from, as columns (`jobPageTx`), and the page of whole jobs `list
 * --json` and the API show (`listJobsPageTx`). Kept out of store.ts because they are the two reads
 * with real logic (merge joins, clock frames, watermarks); the Store only hands them its snapshot.
 * @internal
 */
import type { Job } from '../../model/job';
import type { Run } from '../../model/run';
import type { ScheduleState } from './schema';
import type { Tables } from './tables';
import { stateInstants, stateShift } from './codecs';
import { inFrame } from './clock-frame';
import { STATE_LOOKAHEAD_MS, derivedState, lastFinalRun, newestSlotAt, type SlotFrame } from './fire-layout';
import { PAGE_DONE, PAGE_ENABLED, PAGE_EVENTS, PAGE_FRAMED, PAGE_STATE, type StartupPage } from './port';

/** A job as `list` shows it: the job, its schedule state and its newest final run (fire-layout.ts `lastFinalRun`). */
export interface JobListEntry {
  job: Job;
  state: ScheduleState | null;
  lastRun: Run | null;
}

/**
 * Inside a read snapshot: one page of jobs in id order after `afterId` (exclusive), as columns (see
 * {@link StartupPage}), with instants read at today's clock `offset` and slots in `slots`' frame
 * (store.ts `#clockOffset`, `#slotFrame`).
 */
export function jobPageTx(t: Tables, afterId: string | null, limit: number, now: number, offset: number, slots: SlotFrame): StartupPage {
  const ids: string[] = [];
  const names: string[] = [];
  const flags = new Uint8Array(limit);
  const jitterMs = new Float64Array(limit);
  const last = new Float64Array(limit);
  const next = new Float64Array(limit);
  const anchor = new Float64Array(limit);
  const schedule = new Int32Array(limit);
  const schedules: StartupPage['schedules'] = [];
  const scheduleIndex = new Map<string, number>();
  const after: StartupPage['after'] = [];
  const jobs: StartupPage['jobs'] = [];
  // Since schema 7 every head carries its job's state: ONE cursor over one table per job. A head
  // without it (a store of schema 6 or before opened read-only) has its state read from
  // `states` by a cursor walking beside the heads' (a merge join: no B-tree descent per job),
  // opened only if such a head comes up; a key the walk does not meet exactly falls back to a point read.
  let states: Iterator<{ key: string; value: Buffer }> | null = null;
  let st: IteratorResult<{ key: string; value: Buffer }> | null = null;
  const instants = { last, next, anchor };
  try {
    for (const { key, value: head } of t.heads.getRange({ start: afterId ?? undefined, limit: limit + 1 })) {
      if (key === afterId) continue;
      const i = ids.length;
      if (i >= limit) break;
      let framed = false;
      let state = true;
      const carried = head.state;
      if (carried === null) {
        state = false;
        last[i] = next[i] = anchor[i] = NaN;
      } else if (carried !== undefined) {
        last[i] = carried.last;
        next[i] = carried.next;
        anchor[i] = carried.anchor;
        if (carried.offsetMs !== undefined) {
          // A state tagged with a clock offset, read in today's frame (clock-frame.ts).
          framed = true;
          const by = offset - carried.offsetMs;
          last[i]! += by;
          next[i]! += by;
          anchor[i]! += by;
        }
      } else {
        if (states === null) states = t.statesRaw.getRange({ start: key })[Symbol.iterator]();
        st ??= states.next();
        while (!st.done && st.value.key < key) st = states.next();
        const bytes = !st.done && st.value.key === key ? st.value.value : t.statesRaw.get(key);
        state = bytes !== undefined;
        if (bytes === undefined) last[i] = next[i] = anchor[i] = NaN;
        else {
          stateInstants(bytes, instants, i);
          const by = stateShift(bytes, offset);
          framed = by !== null;
          if (by !== null && by !== 0) {
            last[i]! += by;
            next[i]! += by;
            anchor[i]! += by;
          }
        }
      }
      // Fires write no state (fire-layout.ts): unless the stored next slot is safely ahead (no
      // fire committed ahead can have reached it), the watermark is the newest slot's.
      if (!(next[i]! > now + STATE_LOOKAHEAD_MS)) {
        // Read at today's offset too (a fired interval job's slot is tagged: clock-frame.ts).
        const newest = newestSlotAt(t, key, slots, framed);
        if (newest > last[i]! || (Number.isNaN(last[i]!) && !Number.isNaN(newest))) last[i] = newest;
      }
      ids.push(key);
      names.push(head.name);
      jitterMs[i] = head.jitterMs;
      flags[i] = (head.enabled ? PAGE_ENABLED : 0) | (head.done ? PAGE_DONE : 0) | (head.events ? PAGE_EVENTS : 0) | (state ? PAGE_STATE : 0) | (framed ? PAGE_FRAMED : 0);
      if (head.after.length > 0) after.push([i, head.after]);
      if (head.schedule === undefined) schedule[i] = -1;
      else {
        const zone = head.timezone ?? null;
        const k = `${zone ?? ''}\n${head.schedule}`;
        let s = scheduleIndex.get(k);
        if (s === undefined) {
          s = schedules.push({ schedule: head.schedule, timezone: zone }) - 1;
          scheduleIndex.set(k, s);
        }
        schedule[i] = s;
      }
      // The whole spec only where start-up needs more than the head: an active job whose next
      // slot is unknown or past (recovery, catch-up), or one with watch/usage triggers.
      const known = next[i]! > now && !(last[i]! >= next[i]!);
      if (head.enabled && !head.done && (!known || head.events)) {
        const job = t.jobs.get(key);
        if (job !== undefined) jobs.push([i, job]);
      }
    }
  } finally {
    states?.return?.();
  }
  const n = ids.length;
  return {
    ids, names, flags: flags.slice(0, n), jitterMs: jitterMs.slice(0, n), last: last.slice(0, n), next: next.slice(0, n),
    anchor: anchor.slice(0, n), schedule: schedule.slice(0, n), schedules, after, jobs,
  };
}

/**
 * Inside a read snapshot: up to `limit` jobs in id order after `afterId` (exclusive), each with its
 * schedule state (read at clock `offset`, watermark in `slots`' frame) and newest final run, and
 * whether more jobs follow.
 */
export function listJobsPageTx(t: Tables, afterId: string | null, limit: number, offset: number, slots: SlotFrame): { entries: JobListEntry[]; more: boolean } {
  const entries: JobListEntry[] = [];
  let more = false;
  for (const { key, value: job } of t.jobs.getRange({ start: afterId ?? undefined, limit: limit + 2 })) {
    if (key === afterId) continue;
    if (entries.length >= limit) {
      more = true;
      break;
    }
    const lastRun = lastFinalRun(t, key);
    const state = t.states.get(key);
    entries.push({ job, state: derivedState(t, state === undefined ? null : inFrame(state, offset), slots), lastRun });
  }
  return { entries, more };
}
