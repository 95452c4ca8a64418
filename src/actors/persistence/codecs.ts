/**
 * Compact binary values of the two tables start-up reads for EVERY job: `heads` ({@link JobHead})
 * and `states` ({@link ScheduleState}); and of `runs` ({@link Run}), written twice per run on the
 * hot path (msgpack's encoding of a run was a third of the persistence thread's time in W1). Start-up of a big store is mostly decoding these (a
 * million of each): msgpack records written without shared structures carry their structure
 * definition in every value, and decoding that definition was ~85% of the persistence thread's
 * start-up time (measured with `--cpu-prof`, docs/persistence.md "Value encodings"). A fixed
 * layout decodes in a tenth of the time and is half the size.
 *
 * Every value starts with the byte 0xC1, which msgpack never uses: a value without it is an older
 * store's msgpack record and decodes as before (so a store written by schema version 1 still opens,
 * read-only too; the migration to version 2 rewrites them). Used as lmdb's `encoder` of those two
 * databases, so every reader and writer keeps passing plain objects.
 * @internal
 */
import { Packr } from 'msgpackr';
import type { Run, RunTimes, Slot } from '../../model/run';
import type { ScheduleState } from './schema';
import type { HeadState, JobHead } from './tables';

/** First byte of every value in this encoding: never the first byte of a msgpack value. */
const MAGIC = 0xc1;
const STATE_V1 = 1;
/** A state tagged with its clock offset (clock-frame.ts): one more f64 after the three instants. */
const STATE_V2 = 2;
const HEAD_V1 = 1;
/** A head carrying its job's schedule state instants (schema version 7): start-up's one record per job. */
const HEAD_V2 = 2;
const RUN_V1 = 1;

// Head flags.
const ENABLED = 1;
const DONE = 2;
const EVENTS = 4;
const HAS_SCHEDULE = 8;
const HAS_ZONE = 16;
const ZONE_NULL = 32;
/** (V2) A schedule state is stored: its three instants follow the jitter. */
const HAS_STATE = 64;
/** (V2) The state is tagged with a clock offset: one more f64 after the instants. */
const FRAMED = 128;

/** Values of schema version 1 stores: msgpack records, exactly as lmdb's default encoder wrote them. */
const legacy = new Packr({ copyBuffers: true });

/** A Buffer view of the bytes lmdb hands a decoder (a Buffer or Uint8Array, maybe longer than the value). */
function view(bytes: Uint8Array, end: unknown): Buffer {
  const n = typeof end === 'number' ? end : bytes.length;
  return Buffer.isBuffer(bytes) && n === bytes.length ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, n);
}

/** Builds one value: strings are length-prefixed (u16) UTF-8. */
class Writer {
  readonly buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  u8(v: number): void {
    this.buf[this.pos++] = v;
  }
  f64(v: number): void {
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
  str(s: string): void {
    const n = this.buf.write(s, this.pos + 2, 'utf8');
    this.buf.writeUInt16LE(n, this.pos);
    this.pos += 2 + n;
  }
  done(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Reads one value. */
class Reader {
  pos = 2;
  constructor(readonly buf: Buffer) {}
  u8(): number {
    return this.buf[this.pos++]!;
  }
  f64(): number {
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  str(): string {
    const n = this.buf.readUInt16LE(this.pos);
    const s = this.buf.toString('utf8', this.pos + 2, this.pos + 2 + n);
    this.pos += 2 + n;
    return s;
  }
}

const strBytes = (s: string): number => 2 + Buffer.byteLength(s, 'utf8');
/**
 * Stored instants are canonical ISO UTC text (schema.ts `isoInstant`); kept as epoch ms. Jobs moved
 * together (a clock step, a page of start-up recovery, a second's fires) share their instants, so
 * a batch of 100,000 states parses a handful of texts, not 300,000 (bounded: cleared when full).
 */
const parsed = new Map<string, number>();
const PARSED_MAX = 256;
const ms = (v: string | null): number => {
  if (v === null) return NaN;
  let t = parsed.get(v);
  if (t === undefined) {
    if (parsed.size >= PARSED_MAX) parsed.clear();
    t = Date.parse(v);
    parsed.set(v, t);
  }
  return t;
};
const text = (v: number): string | null => (Number.isNaN(v) ? null : new Date(v).toISOString());

/**
 * Encodes a schedule state: its three instants as epoch ms (f64, NaN: none) at fixed offsets, so
 * start-up reads them straight from the stored bytes ({@link stateInstants}), then (a tagged state,
 * version 2) its clock offset, then the job id.
 */
export function encodeState(s: ScheduleState): Buffer {
  const tagged = s.offsetMs !== undefined;
  const w = new Writer(2 + (tagged ? 32 : 24) + strBytes(s.jobId));
  w.u8(MAGIC);
  w.u8(tagged ? STATE_V2 : STATE_V1);
  w.f64(ms(s.lastSlotAt));
  w.f64(ms(s.nextRunAt));
  w.f64(ms(s.anchorAt));
  if (tagged) w.f64(s.offsetMs!);
  w.str(s.jobId);
  return w.done();
}

/** Decodes a schedule state (either encoding). */
export function decodeState(bytes: Uint8Array, end?: unknown): ScheduleState {
  const b = view(bytes, end);
  if (b[0] !== MAGIC) return legacy.unpack(b) as ScheduleState;
  const r = new Reader(b);
  const last = r.f64();
  const next = r.f64();
  const anchor = r.f64();
  if (b[1] !== STATE_V2) return { jobId: r.str(), lastSlotAt: text(last), nextRunAt: text(next), anchorAt: text(anchor) };
  const offsetMs = r.f64();
  return { jobId: r.str(), lastSlotAt: text(last), nextRunAt: text(next), anchorAt: text(anchor), offsetMs };
}

/**
 * How far a stored state's instants move to read them at clock offset `offsetMs` (clock-frame.ts),
 * or null for an untagged state (never moved). Start-up adds it to what {@link stateInstants} read.
 */
export function stateShift(bytes: Uint8Array, offsetMs: number): number | null {
  const b = view(bytes, undefined);
  return b[0] === MAGIC && b[1] === STATE_V2 ? offsetMs - b.readDoubleLE(26) : null;
}

/**
 * The watermark, next slot and anchor of a stored state (epoch ms, NaN: none) written into
 * `out[at..at+2]`, without building the state: start-up's read of a million states.
 */
export function stateInstants(bytes: Uint8Array, out: { last: Float64Array; next: Float64Array; anchor: Float64Array }, at: number): void {
  const b = view(bytes, undefined);
  if (b[0] === MAGIC) {
    out.last[at] = b.readDoubleLE(2);
    out.next[at] = b.readDoubleLE(10);
    out.anchor[at] = b.readDoubleLE(18);
    return;
  }
  const s = legacy.unpack(b) as ScheduleState;
  out.last[at] = ms(s.lastSlotAt);
  out.next[at] = ms(s.nextRunAt);
  out.anchor[at] = ms(s.anchorAt);
}

/**
 * Encodes a job head. A head with `state` (null or instants: every head the store writes since
 * schema version 7) is layout version 2: after the jitter, when a state is stored, its watermark,
 * next slot and anchor (f64 epoch ms, NaN: none) and, when tagged, its clock offset. Without
 * `state` (a head from before it was carried, as tests and the migration's readers see them): version 1.
 */
export function encodeHead(h: JobHead): Buffer {
  const st = h.state;
  const v2 = st !== undefined;
  const framed = st?.offsetMs !== undefined;
  let size = 3 + 8 + strBytes(h.id) + strBytes(h.name) + 2 + (st ? 24 : 0) + (framed ? 8 : 0);
  if (h.schedule !== undefined) size += strBytes(h.schedule);
  if (typeof h.timezone === 'string') size += strBytes(h.timezone);
  for (const a of h.after) size += strBytes(a);
  const w = new Writer(size);
  w.u8(MAGIC);
  w.u8(v2 ? HEAD_V2 : HEAD_V1);
  w.u8((h.enabled ? ENABLED : 0) | (h.done ? DONE : 0) | (h.events ? EVENTS : 0) | (h.schedule !== undefined ? HAS_SCHEDULE : 0)
    | (typeof h.timezone === 'string' ? HAS_ZONE : 0) | (h.timezone === null ? ZONE_NULL : 0) | (st ? HAS_STATE : 0) | (framed ? FRAMED : 0));
  w.f64(h.jitterMs);
  if (st) {
    w.f64(st.last);
    w.f64(st.next);
    w.f64(st.anchor);
    if (framed) w.f64(st.offsetMs!);
  }
  w.str(h.id);
  w.str(h.name);
  if (h.schedule !== undefined) w.str(h.schedule);
  if (typeof h.timezone === 'string') w.str(h.timezone);
  w.buf.writeUInt16LE(h.after.length, w.pos);
  w.pos += 2;
  for (const a of h.after) w.str(a);
  return w.done();
}

/** Decodes a job head (any encoding; `state` is absent from a head written before heads carried it). */
export function decodeHead(bytes: Uint8Array, end?: unknown): JobHead {
  const b = view(bytes, end);
  if (b[0] !== MAGIC) return legacy.unpack(b) as JobHead;
  const r = new Reader(b);
  const f = r.u8();
  const jitterMs = r.f64();
  let state: HeadState | null | undefined;
  if (b[1] === HEAD_V2) {
    if ((f & HAS_STATE) === 0) state = null;
    else {
      state = { last: r.f64(), next: r.f64(), anchor: r.f64() };
      if ((f & FRAMED) !== 0) state.offsetMs = r.f64();
    }
  }
  const id = r.str();
  const name = r.str();
  const head: JobHead = { id, name, enabled: (f & ENABLED) !== 0, done: (f & DONE) !== 0, jitterMs, after: [], events: (f & EVENTS) !== 0 };
  if ((f & HAS_SCHEDULE) !== 0) head.schedule = r.str();
  if ((f & HAS_ZONE) !== 0) head.timezone = r.str();
  else if ((f & ZONE_NULL) !== 0) head.timezone = null;
  const n = b.readUInt16LE(r.pos);
  r.pos += 2;
  for (let i = 0; i < n; i++) head.after.push(r.str());
  if (state !== undefined) head.state = state;
  return head;
}

/** A schedule state as a head carries it: epoch ms (NaN: none), and the clock offset it is tagged with. */
export function headStateOf(s: ScheduleState): HeadState {
  const out: HeadState = { last: ms(s.lastSlotAt), next: ms(s.nextRunAt), anchor: ms(s.anchorAt ?? null) };
  if (s.offsetMs !== undefined) out.offsetMs = s.offsetMs;
  return out;
}

/** Whether a stored value is in this encoding (the migration rewrites those that are not). */
export function isCompact(bytes: Uint8Array): boolean {
  return bytes[0] === MAGIC;
}

/** lmdb `encoder` of the `states` database. */
export const stateEncoder = { encode: encodeState, decode: decodeState };
/** lmdb `encoder` of the `heads` database. */
export const headEncoder = { encode: encodeHead, decode: decodeHead };

const SLOT_V1 = 1;
/** Bytes before a tagged slot's msgpack body: magic, version, its clock offset (f64). */
const SLOT_HEADER = 10;

/**
 * A slot to store with the clock offset its `at` was computed at (clock-frame.ts): what a batch
 * puts for an interval job's slot. The slot itself stays as the scheduler made it (it is also
 * the published event), so the tag travels beside it.
 */
export class TaggedSlot {
  constructor(readonly slot: Slot, readonly offsetMs: number) {}
}

/**
 * Encodes a slot (schema 6): a {@link TaggedSlot} as magic, version, its offset (f64), then the
 * slot's msgpack; a plain slot (a calendar job's, or written by an older version) as msgpack
 * alone, byte for byte what lmdb's default encoder wrote before. Only the tag is read on the hot
 * read paths ({@link slotTag}: start-up reads one per fired job), the rest is rarely decoded.
 */
export function encodeSlot(v: Slot | TaggedSlot): Buffer {
  if (!(v instanceof TaggedSlot)) return Buffer.from(legacy.pack(v));
  const body = legacy.pack(v.slot);
  const out = Buffer.allocUnsafe(SLOT_HEADER + body.length);
  out[0] = MAGIC;
  out[1] = SLOT_V1;
  out.writeDoubleLE(v.offsetMs, 2);
  out.set(body, SLOT_HEADER);
  return out;
}

/** Decodes a slot (either encoding); the tag is not part of it (read it with {@link slotTag}). */
export function decodeSlot(bytes: Uint8Array, end?: unknown): Slot {
  const b = view(bytes, end);
  return legacy.unpack(b[0] === MAGIC ? b.subarray(SLOT_HEADER) : b) as Slot;
}

/** The clock offset a stored slot is tagged with, from its bytes (undefined: untagged). */
export function slotTag(bytes: Uint8Array): number | undefined {
  const b = view(bytes, undefined);
  return b[0] === MAGIC && b[1] === SLOT_V1 ? b.readDoubleLE(2) : undefined;
}

/** lmdb `encoder` of the `slots` database. */
export const slotEncoder = { encode: encodeSlot, decode: decodeSlot };

/** Length prefix of a null text. */
const NULL_TEXT = 0xffffffff;
/** Where a compact run's texts start: after magic, version and its four f64 numbers. */
const RUN_TEXTS = 34;
/** Where a run is written before it is copied out at its exact size (grown for big outputs). */
let scratch = Buffer.allocUnsafe(64 * 1024);
/**
 * Texts up to this length are tried as ASCII, one byte per char written from JS: ids, instants,
 * statuses and most errors are. A `Buffer.write` (a call into C++) per text was most of
 * encodeRun's time, and encodeRun runs twice per run on the persistence thread.
 */
const ASCII_MAX = 256;
/**
 * lmdb's "the value is written now, inside this write transaction" flag (lmdb write.js
 * RESET_BUFFER_MODE): the bytes are copied into the database before the next value is encoded,
 * so the scratch buffer itself may be handed over, with no copy of its own.
 */
const LMDB_SYNC_WRITE = 1024;

const isNum = (v: unknown): boolean => v === null || typeof v === 'number';
const isText = (v: unknown): boolean => v === null || typeof v === 'string';

/** Whether every field has the type the compact layout stores (else the run is written as msgpack). */
function fitsLayout(r: Run): boolean {
  return typeof r.attempt === 'number' && isNum(r.exitCode) && isNum(r.durationMs) && isNum(r.peakMemoryBytes) &&
    typeof r.id === 'string' && typeof r.jobId === 'string' && typeof r.trigger === 'string' && typeof r.status === 'string' &&
    typeof r.scheduledAt === 'string' && isText(r.startedAt) && isText(r.finishedAt) && isText(r.signal) && isText(r.error) &&
    typeof r.output === 'string';
}

/** Writes one text at `pos` (u32 byte length, then UTF-8); returns the position after it. */
function putText(b: Buffer, pos: number, v: string | null): number {
  if (v === null) {
    b.writeUInt32LE(NULL_TEXT, pos);
    return pos + 4;
  }
  const n = v.length;
  let i = 0;
  if (n <= ASCII_MAX) {
    const at = pos + 4;
    for (; i < n; i++) {
      const c = v.charCodeAt(i);
      if (c >= 0x80) break;
      b[at + i] = c;
    }
  }
  // Not all ASCII (or long): UTF-8 by Buffer.write, from the start of the text.
  const len = i === n ? n : b.write(v, pos + 4, 'utf8');
  b.writeUInt32LE(len, pos);
  return pos + 4 + len;
}

/**
 * Writes a run into the scratch buffer; returns its length (the scratch may have grown). Its ten
 * texts in stored order: id, jobId, trigger, status, scheduledAt, startedAt, finishedAt, signal,
 * error, output (what decodeRun reads back).
 */
function writeRun(r: Run): number {
  // At most 3 bytes of UTF-8 per UTF-16 unit; the fields named one by one (a keyed loop over the
  // text fields cost as much as the writes).
  const need = 74 + 3 * (r.id.length + r.jobId.length + r.trigger.length + r.status.length + r.scheduledAt.length +
    (r.startedAt?.length ?? 0) + (r.finishedAt?.length ?? 0) + (r.signal?.length ?? 0) + (r.error?.length ?? 0) + r.output.length);
  if (scratch.length < need) scratch = Buffer.allocUnsafe(need);
  const b = scratch;
  b[0] = MAGIC;
  b[1] = RUN_V1;
  b.writeDoubleLE(r.attempt, 2);
  b.writeDoubleLE(r.exitCode ?? NaN, 10);
  b.writeDoubleLE(r.durationMs ?? NaN, 18);
  b.writeDoubleLE(r.peakMemoryBytes ?? NaN, 26);
  let pos = RUN_TEXTS;
  pos = putText(b, pos, r.id);
  pos = putText(b, pos, r.jobId);
  pos = putText(b, pos, r.trigger);
  pos = putText(b, pos, r.status);
  pos = putText(b, pos, r.scheduledAt);
  pos = putText(b, pos, r.startedAt);
  pos = putText(b, pos, r.finishedAt);
  pos = putText(b, pos, r.signal);
  pos = putText(b, pos, r.error);
  return putText(b, pos, r.output);
}

/**
 * Encodes a run: magic, version, its four numbers as f64 at fixed offsets (NaN: null), then its
 * ten texts as u32 byte length (0xFFFFFFFF: null) + UTF-8. A run whose fields do not have their
 * types (never made by the scheduler) is written as msgpack, which {@link decodeRun} reads too.
 * `mode`: lmdb's buffer flags; inside a write transaction the bytes come back as a view of the
 * scratch buffer (lmdb copies them before it encodes the next value), else as a copy of their own.
 */
export function encodeRun(r: Run, mode = 0): Buffer {
  if (!fitsLayout(r)) return Buffer.from(legacy.pack(r));
  const n = writeRun(r);
  if ((mode & LMDB_SYNC_WRITE) !== 0) return scratch.subarray(0, n);
  const out = Buffer.allocUnsafe(n);
  scratch.copy(out, 0, 0, n);
  return out;
}

/** Decodes a run (either encoding). */
export function decodeRun(bytes: Uint8Array, end?: unknown): Run {
  const b = view(bytes, end);
  if (b[0] !== MAGIC) return legacy.unpack(b) as Run;
  const num = (at: number): number | null => {
    const v = b.readDoubleLE(at);
    return Number.isNaN(v) ? null : v;
  };
  let pos = RUN_TEXTS;
  const txt = (): string | null => {
    const n = b.readUInt32LE(pos);
    pos += 4;
    if (n === NULL_TEXT) return null;
    const v = n === 0 ? '' : b.toString('utf8', pos, pos + n);
    pos += n;
    return v;
  };
  const id = txt()!;
  const jobId = txt()!;
  const trigger = txt() as Run['trigger'];
  const status = txt() as Run['status'];
  const scheduledAt = txt()!;
  const startedAt = txt();
  const finishedAt = txt();
  const signal = txt();
  const error = txt();
  const output = txt()!;
  // The field order of a run as the scheduler makes it (newRun), so its JSON reads the same.
  return {
    id, jobId, attempt: b.readDoubleLE(2), trigger, status, exitCode: num(10), signal, scheduledAt, startedAt, finishedAt,
    durationMs: num(18), peakMemoryBytes: num(26), error, output,
  };
}

/**
 * A stored run's id, status and times, read from its bytes without the rest (its output is up to
 * 64 KiB of text): what `list` shows of each job's newest run.
 */
export function decodeRunTimes(bytes: Uint8Array): RunTimes {
  const b = view(bytes, undefined);
  if (b[0] !== MAGIC) {
    const r = legacy.unpack(b) as Run;
    return { id: r.id, status: r.status, scheduledAt: r.scheduledAt, startedAt: r.startedAt, finishedAt: r.finishedAt };
  }
  let pos = RUN_TEXTS;
  const txt = (): string | null => {
    const n = b.readUInt32LE(pos);
    pos += 4;
    if (n === NULL_TEXT) return null;
    pos += n;
    return b.toString('utf8', pos - n, pos);
  };
  const id = txt()!;
  txt(); // jobId
  txt(); // trigger
  const status = txt() as Run['status'];
  const scheduledAt = txt()!;
  const startedAt = txt();
  return { id, status, scheduledAt, startedAt, finishedAt: txt() };
}

/**
 * Whether stored run bytes (compact layout) are of this job, comparing the job id's bytes in
 * place: finding a job's runs in flight reads every `unfinished` value, and decoding each (its
 * output included) made `status`/`history` O(runs in flight) decodes. Undefined: not the compact
 * layout (an older value: the caller decodes it).
 */
export function compactRunOfJob(bytes: Uint8Array, jobId: Buffer): boolean | undefined {
  const b = view(bytes, undefined);
  if (b[0] !== MAGIC) return undefined;
  const at = RUN_TEXTS + 4 + b.readUInt32LE(RUN_TEXTS);
  const n = b.readUInt32LE(at);
  return n === jobId.length && b.compare(jobId, 0, n, at + 4, at + 4 + n) === 0;
}

/**
 * lmdb `encoder` of the `runs` database. `copyBuffers` tells lmdb the encoder takes its buffer
 * flags (lmdb write.js: the flag that marks a write inside its transaction), see {@link encodeRun}.
 */
export const runEncoder = { encode: encodeRun, decode: decodeRun, copyBuffers: true };
