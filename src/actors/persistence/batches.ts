/**
 * The LMDB side of the port's batch operations (src/actors/persistence/port.ts): one batch of
 * fires, runs and schedule states in ONE transaction. Records come from the scheduler, built from
 * validated specs, so they are not re-parsed with zod here (that cost was paid per write before);
 * only what the transaction itself needs is checked.
 * @internal
 */
import { PersistenceError, ValidationError } from '../../errors';
import type { Run, Slot } from '../../model/run';
import type { Batch, BatchResult, UnfinishedRun } from './port';
import { putStateTx, type Tables } from './tables';
import { CLOCK_FENCE_KEY, CLOCK_OFFSET_KEY, CLOCK_SEQ_KEY, CLOCK_SLOT_BASE_KEY } from './clock-frame';
import { slotTag, TaggedSlot } from './codecs';
import { GLOBAL_KEY, countRun, emptyRollup, type RunRollup } from './rollup';
import { appendPendingTx, pendingOf, type PendingFinal } from './rollup-pending';
import { heldJobOf, unfinishedRuns } from './fire-layout';

const UNFINISHED: ReadonlySet<Run['status']> = new Set(['queued', 'running']);

/**
 * What one transaction remembers while it writes many runs: which jobs exist (a job's spec is not
 * decoded once per run) and the statistics rolled up so far: the whole-store rollup is read and
 * written ONCE per batch; the jobs' rollups go as ONE pending record per batch, folded into each
 * job's record later (rollup-pending.ts) — not a get and put per job and batch. {@link flushRollups}
 * writes them.
 */
export class TxMemo {
  readonly #jobs = new Map<string, boolean>();
  readonly rollups = new Map<string, RunRollup>();
  /** The final runs of this transaction, for the jobs' rollups. */
  readonly #finals: PendingFinal[] = [];
  #anyParked: boolean | undefined;
  constructor(readonly t: Tables) {}

  /**
   * Whether any run is parked (one cursor step per transaction): parked runs exist only after a
   * graceful stop, so a final record usually needs no `parked` lookup.
   */
  anyParked(): boolean {
    this.#anyParked ??= this.t.parked.getKeysCount({ limit: 1 }) > 0;
    return this.#anyParked;
  }

  jobExists(jobId: string): boolean {
    let known = this.#jobs.get(jobId);
    if (known === undefined) {
      known = this.t.jobs.doesExist(jobId);
      this.#jobs.set(jobId, known);
    }
    return known;
  }

  /** Counts a run that just became final into the global rollup and its job's pending record (written by flushRollups). */
  count(run: Run): void {
    this.#finals.push(pendingOf(run));
    this.#rollup(GLOBAL_KEY, run);
  }

  #rollup(key: string, run: Run): void {
    let r = this.rollups.get(key);
    if (r === undefined) {
      // Decoded from the store (a fresh object this transaction owns) or new: counted in place.
      r = this.t.stats.get(key) ?? emptyRollup();
      this.rollups.set(key, r);
    }
    countRun(r, run);
  }

  /** Writes the rollups this transaction moved: the global record, and its final runs as one pending record (may fold). */
  flushRollups(): void {
    for (const [key, r] of this.rollups) void this.t.stats.put(key, r);
    this.rollups.clear();
    appendPendingTx(this.t, this.#finals.splice(0));
  }
}

/**
 * Inside a transaction: upserts a run and its index entries. Returns false if its job is gone.
 * With a {@link TxMemo} (a batch), the caller flushes its rollups before the transaction ends.
 *
 * Layout (schema 4, fire-layout.ts): an unfinished run is ONE record, in `unfinished`; its final
 * record moves it to `runs` (with its `runJob` entry) and removes it from `unfinished`.
 */
export function putRunTx(t: Tables, r: Run, memo?: TxMemo): boolean {
  const m = memo ?? new TxMemo(t);
  if (!m.jobExists(r.jobId)) return false;
  const unfinished = UNFINISHED.has(r.status);
  if (unfinished && memo !== undefined) {
    // A batch's unfinished record is a run the scheduler just created (or that same record again,
    // from a batch retried after its reply was lost): one idempotent put, nothing is read.
    void t.unfinished.put(r.id, r);
    return true;
  }
  // `unfinished` holds the run (v4) or its job id (v3: the run is in `runs`): a final record of a
  // run stored unfinished (the usual case) needs no `runJob` read. A run stored before is final
  // already unless that index still holds it, so its statistics are counted once, when its final
  // record is first written.
  const held = t.unfinished.get(r.id);
  const wasUnfinished = held !== undefined;
  const owner = held === undefined ? t.runJob.get(r.id) : heldJobOf(held);
  if (owner !== undefined && owner !== r.jobId) {
    throw new ValidationError(`run ${r.id} belongs to job ${owner}, not ${r.jobId}`, 'run.jobId');
  }
  // Not in `runs` yet: new, or unfinished in the v4 layout.
  const notInRuns = owner === undefined || (held !== undefined && typeof held !== 'string');
  if (unfinished) {
    // Outside a batch (putRun): a run already in `runs` keeps the v3 layout, others take v4's.
    if (notInRuns) void t.unfinished.put(r.id, r);
    else {
      void t.runs.put([r.jobId, r.id], r);
      if (!wasUnfinished) void t.unfinished.put(r.id, r.jobId);
    }
  } else {
    void t.runs.put([r.jobId, r.id], r);
    if (notInRuns) void t.runJob.put(r.id, r.jobId);
    if (owner === undefined || wasUnfinished) m.count(r);
    if (wasUnfinished) void t.unfinished.remove(r.id);
    if (owner !== undefined && m.anyParked() && t.parked.doesExist(r.id)) void t.parked.remove(r.id);
  }
  if (memo === undefined) m.flushRollups();
  return true;
}

/** Checks a batch's shape once at the thread boundary (cheap: no per-field schema). */
export function checkBatch(b: unknown): Batch {
  const batch = b as Batch;
  if (batch === null || typeof batch !== 'object' || !Array.isArray(batch.fires) || !Array.isArray(batch.runs) ||
    !Array.isArray(batch.states)) {
    throw new ValidationError('batch: expected { fires: [], runs: [], states: [] }', 'batch');
  }
  for (const [i, f] of batch.fires.entries()) {
    if (typeof f?.slot?.jobId !== 'string' || typeof f.slot.at !== 'string') {
      throw new ValidationError(`batch.fires[${i}].slot: expected a slot with jobId and at`, `batch.fires[${i}].slot`);
    }
    if (f.offsetMs !== undefined && !Number.isFinite(f.offsetMs)) {
      throw new ValidationError(`batch.fires[${i}].offsetMs: expected a number`, `batch.fires[${i}].offsetMs`);
    }
    if (f.run !== null && f.run?.jobId !== f.slot.jobId) {
      throw new ValidationError(`batch.fires[${i}].run.jobId: the run is for another job than its slot`, `batch.fires[${i}].run.jobId`);
    }
  }
  if (batch.clock !== undefined && !(Number.isInteger(batch.clock?.seq) && Number.isFinite(batch.clock.offsetMs) &&
    (batch.clock.fenceMs === undefined || Number.isFinite(batch.clock.fenceMs)))) {
    throw new ValidationError('batch.clock: expected { seq: integer, offsetMs: number, fenceMs?: number }', 'batch.clock');
  }
  const o = batch.order;
  if (o !== undefined && !(Number.isFinite(o?.writer) && Number.isInteger(o.seq) && (o.after === null || Number.isInteger(o.after)))) {
    throw new ValidationError('batch.order: expected { writer: number, seq: integer, after: integer | null }', 'batch.order');
  }
  for (const [i, r] of batch.runs.entries()) {
    if (typeof r?.id !== 'string' || typeof r.jobId !== 'string') {
      throw new ValidationError(`batch.runs[${i}]: expected a run with id and jobId`, `batch.runs[${i}]`);
    }
  }
  return batch;
}

/** `meta` keys of the last durable ordered batch (port.ts `BatchOrder`): its writer and seq. */
export const BATCH_WRITER_KEY = 'batchWriter';
export const BATCH_SEQ_KEY = 'batchSeq';

/**
 * Inside the batch's transaction, before anything is written: refuses a batch whose predecessor in
 * flight is not durable (port.ts `BatchOrder`), then records this one as the last durable.
 */
function orderTx(t: Tables, o: NonNullable<Batch['order']>): void {
  if (o.after !== null && !(t.meta.get(BATCH_WRITER_KEY) === o.writer && (t.meta.get(BATCH_SEQ_KEY) ?? -1) >= o.after)) {
    throw new PersistenceError(`store write refused: batch ${o.seq} was sent behind batch ${o.after}, which is not written (it failed); both are retried, in order`);
  }
  void t.meta.put(BATCH_WRITER_KEY, o.writer);
  void t.meta.put(BATCH_SEQ_KEY, o.seq);
}

/** The value to put for a slot: with its clock tag, if any (lmdb hands it to the slot codec as it is). */
const tagged = (slot: Slot, offsetMs: number | undefined): Slot => (offsetMs === undefined ? slot : (new TaggedSlot(slot, offsetMs) as unknown as Slot));

/**
 * Whether the slot stored at this fire's key was recorded in another clock frame than the fire
 * (clock-frame.ts): an interval slot's identity is its instant of elapsed time — its wall time
 * minus the clock offset it was computed at — so after a backward step by a whole number of
 * intervals the job's new slots land on the wall times of slots it already ran, and they are NOT
 * those slots (deduping them would skip that many intervals silently). The fire then replaces the
 * older record at the key (its run stays in history). Same frame: the same slot (a retried batch,
 * a restart firing it again) — deduped, never run twice. Calendar fires carry no offset: their
 * slots are wall-clock times, deduped by key as always.
 */
function otherFrame(t: Tables, slot: Slot, offsetMs: number | undefined): boolean {
  if (offsetMs === undefined) return false;
  // An untagged slot of an interval job reads at the base offset (clock-frame.ts CLOCK_SLOT_BASE_KEY).
  const tag = slotTag(t.slotsRaw.get([slot.jobId, slot.at])!) ?? t.meta.get(CLOCK_SLOT_BASE_KEY) ?? 0;
  return tag !== offsetMs;
}

/** Inside ONE transaction: writes the batch (port rules: dedupe by slot, drop removed jobs). */
export function writeBatchTx(t: Tables, batch: Batch): BatchResult {
  if (batch.order !== undefined) orderTx(t, batch.order);
  const memo = new TxMemo(t);
  const deduped: BatchResult['deduped'] = [];
  const dropped = new Set<string>();
  for (const { slot, run, offsetMs } of batch.fires) {
    if (!memo.jobExists(slot.jobId)) {
      dropped.add(slot.jobId);
      continue;
    }
    const held = t.slots.get([slot.jobId, slot.at]);
    if (held !== undefined) {
      // The same run id: this batch's own earlier commit, whose reply was lost. Anything else is
      // taken — unless it belongs to another clock frame (below): then it is another slot.
      if (run !== null && held.runId === run.id) continue;
      if (!otherFrame(t, slot, offsetMs)) {
        deduped.push({ jobId: slot.jobId, at: slot.at });
        continue;
      }
    }
    // An interval job's slot carries the clock offset its time was computed at (clock-frame.ts).
    void t.slots.put([slot.jobId, slot.at], tagged(slot, offsetMs));
    if (run !== null) putRunTx(t, run, memo);
  }
  const finals: Run[] = [];
  for (const run of batch.runs) {
    if (UNFINISHED.has(run.status)) {
      if (!putRunTx(t, run, memo)) dropped.add(run.jobId);
    } else {
      finals.push(run);
    }
  }
  for (const jobId of commitFinishesTx(t, finals, memo)) dropped.add(jobId);
  for (const st of batch.states) {
    if (!memo.jobExists(st.jobId)) dropped.add(st.jobId);
    else putStateTx(t, st);
  }
  for (const slot of batch.revised ?? []) {
    const held = t.slots.get([slot.jobId, slot.at]);
    if (held === undefined || held.runId !== slot.runId) continue;
    // The revision keeps the stored slot's clock tag (its time is the same).
    const tag = slotTag(t.slotsRaw.get([slot.jobId, slot.at])!);
    void t.slots.put([slot.jobId, slot.at], tagged(slot, tag));
  }
  for (const id of batch.parked ?? []) {
    const held = t.unfinished.get(id);
    if (held !== undefined) void t.parked.put(id, heldJobOf(held));
  }
  // The clock steps handled (clock-frame.ts): never moved back by an older batch retried late.
  if (batch.clock !== undefined && batch.clock.seq > (t.meta.get(CLOCK_SEQ_KEY) ?? 0)) {
    void t.meta.put(CLOCK_SEQ_KEY, batch.clock.seq);
    void t.meta.put(CLOCK_OFFSET_KEY, batch.clock.offsetMs);
    if (batch.clock.fenceMs !== undefined) void t.meta.put(CLOCK_FENCE_KEY, batch.clock.fenceMs);
  }
  memo.flushRollups();
  return { deduped, dropped: [...dropped] };
}

/**
 * Inside the batch's transaction: the final records of finished runs (all finishes of a turn).
 * The one place a run's end is written — statistics rolled up as runs finish belong here
 * (accumulated in `memo`: the global record once per batch, the jobs' as one pending record).
 * Returns the ids of jobs that are gone (their records dropped).
 */
export function commitFinishesTx(t: Tables, finals: Run[], memo: TxMemo): string[] {
  const gone: string[] = [];
  for (const run of finals) if (!putRunTx(t, run, memo)) gone.push(run.jobId);
  return gone;
}

/** Unfinished runs, each with whether a graceful stop parked it unstarted. */
export function unfinishedRunsTx(t: Tables): UnfinishedRun[] {
  return unfinishedRuns(t).map((run) => ({ run, parked: t.parked.get(run.id) !== undefined }));
}
