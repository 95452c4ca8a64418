/** Worker-thread entry of the persistence actor: the store's handlers, hosted by the runtime. */
import { exposeActor } from '../runtime/thread-actor';
import { createPersistenceHandlers } from '../actors/persistence/actor';

// lmdb-js rejects every write of a failed commit (a full disk: ENOSPC/EIO) — the awaited transaction
// reports it to the caller (store-errors.ts) — and also the promises of the single puts inside the
// transaction and a separate `commitError` promise, which nobody awaits. Unhandled, those would
// kill this thread on every failed commit; they carry nothing the caller has not been told.
process.on('unhandledRejection', (reason) => {
  const text = `${(reason as Error)?.message ?? ''}\n${(reason as Error)?.stack ?? ''}`;
  if ((reason as { commitError?: unknown })?.commitError !== undefined || /[\\/]lmdb[\\/]/.test(text)) return;
  throw reason;
});

exposeActor(createPersistenceHandlers);
