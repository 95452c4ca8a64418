/**
 * What {@link Store.open} does once the LMDB tables are open: check the schema version, write it on
 * a new store, migrate an older store in one transaction, and roll up run statistics once. Kept out
 * of store.ts so that the Store class reads as its operations, and the migration rules (one per
 * schema version) read together in one place.
 * @internal
 */
import { PersistenceError } from '../../errors';
import { entryCount, HEADS_WITH_STATE, headOf, SCHEMA_KEY, SCHEMA_VERSION, SLOTS_TAGGED, type Tables } from './tables';
import { headStateOf } from './codecs';
import { CLOCK_OFFSET_KEY, CLOCK_SLOT_BASE_KEY } from './clock-frame';
import { ROLLUP_META_KEY, ROLLUP_VERSION } from './rollup';
import { rebuildRollups } from './rollup-pending';

/**
 * Inside the migration's transaction: every head (whole but stateless: schema 2–6) rewritten with
 * its job's state, reading only these two tables (not every job spec). The heads are read first,
 * removed, then written again in key order: rewritten in place, each grown value split its page
 * and left the table at half fill (57k leaf pages for a million heads instead of 36k, and start-up
 * reads every one of them).
 */
function addStatesToHeads(t: Tables): void {
  const heads = [...t.heads.getRange({})];
  for (const { key } of heads) void t.heads.remove(key);
  // States are keyed like heads: one cursor walking beside them (a merge join).
  const states = t.states.getRange({})[Symbol.iterator]();
  let st = states.next();
  try {
    for (const { key, value } of heads) {
      while (!st.done && st.value.key < key) st = states.next();
      const state = !st.done && st.value.key === key ? st.value.value : null;
      void t.heads.put(key, { ...value, state: state === null ? null : headStateOf(state) });
    }
  } finally {
    states.return?.();
  }
}

/**
 * Checks the schema version of freshly opened tables at `where`, writes it (new store) or migrates
 * the store to it (not `readOnly`), and resolves with the store's version (0: empty, read-only).
 * The caller closes the environment if this throws.
 * @throws PersistenceError if the store was written by a newer version.
 */
export async function openedVersion(t: Tables, where: string, readOnly: boolean): Promise<number> {
  const found = t.meta.get(SCHEMA_KEY);
  if (found !== undefined && (typeof found !== 'number' || found > SCHEMA_VERSION)) {
    throw new PersistenceError(
      `store at ${where} has schema version ${String(found)}, newer than this rae-scheduler ` +
        `understands (${SCHEMA_VERSION}); upgrade rae-scheduler or restore a backup into an empty data directory`,
    );
  }
  let version = found ?? 0;
  if (!readOnly && found === undefined) {
    // Checked again inside the write lock: two processes may create the same store at once.
    version = await t.env.childTransaction(() => {
      const now = t.meta.get(SCHEMA_KEY);
      if (now === undefined) void t.meta.put(SCHEMA_KEY, SCHEMA_VERSION);
      return now ?? SCHEMA_VERSION;
    });
    await t.env.flushed;
  }
  // Migration, in ONE transaction with the new version record (a crash leaves the old store as
  // it was, migrated again at the next open):
  // - heads: stores written before the heads table existed (or before heads carried the
  //   schedule or, schema 7, the state; or by a crash between versions), or by schema version 1
  //   (msgpack heads and states): the heads rebuilt, each with its job's state, and (v1) the
  //   states rewritten in the compact encoding (codecs.ts);
  // - slots: before 6 they were untagged: they read at the offset the store has now
  //   (clock-frame.ts CLOCK_SLOT_BASE_KEY);
  // - version 2 (msgpack runs), 3 (runs in flight in `runs`, a state per fire), 4 (untagged
  //   states): nothing to rewrite (both encodings of a run decode; fire-layout.ts reads both
  //   layouts); the version moves on so that an older build refuses the store rather than misread it.
  const first = [...t.heads.getRange({ limit: 1 })][0]?.value;
  const v1 = version < 2;
  const whole = !v1 && entryCount(t.heads) === entryCount(t.jobs) && (first === undefined || first.schedule !== undefined);
  if (!readOnly && (version < SCHEMA_VERSION || !whole)) {
    version = await t.env.childTransaction(() => {
      // Read again inside the write lock: another process may have migrated the store meanwhile.
      const now = t.meta.get(SCHEMA_KEY) ?? 0;
      if (!whole) {
        for (const key of [...t.heads.getKeys({})]) void t.heads.remove(key);
        for (const { key, value } of t.jobs.getRange({})) void t.heads.put(key, headOf(value, t.states.get(key) ?? null));
      } else if (now < HEADS_WITH_STATE) addStatesToHeads(t);
      if (v1 && now < 2) for (const { key, value } of [...t.states.getRange({})]) void t.states.put(key, value);
      const offset = t.meta.get(CLOCK_OFFSET_KEY) ?? 0;
      if (now < SLOTS_TAGGED && offset !== 0 && t.meta.get(CLOCK_SLOT_BASE_KEY) === undefined) void t.meta.put(CLOCK_SLOT_BASE_KEY, offset);
      if (now < SCHEMA_VERSION) void t.meta.put(SCHEMA_KEY, SCHEMA_VERSION);
      return Math.max(now, SCHEMA_VERSION);
    });
    await t.env.flushed;
  }
  // Stores written before run statistics were rolled up: count the stored runs once.
  if (!readOnly && t.meta.get(ROLLUP_META_KEY) !== ROLLUP_VERSION) {
    await t.env.childTransaction(() => {
      if (t.meta.get(ROLLUP_META_KEY) === ROLLUP_VERSION) return;
      rebuildRollups(t);
      void t.meta.put(ROLLUP_META_KEY, ROLLUP_VERSION);
    });
    await t.env.flushed;
  }
  return version;
}
