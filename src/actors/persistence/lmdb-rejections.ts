/**
 * lmdb-js rejects every write of a failed commit (a full disk: ENOSPC/EIO) — the awaited
 * transaction reports it to the caller (store-errors.ts) — and also the promises of the single puts
 * inside the transaction and a separate `commitError` promise, which nobody awaits. Unhandled,
 * those would kill the persistence thread on every failed commit; they carry nothing the caller
 * has not been told (test/faults/disk.int.test.ts).
 *
 * Installed by the persistence actor's factory when it runs in a worker thread (the runtime's
 * generic entry has no actor-specific code, so the actor's logic module brings its own filter).
 * On the main thread (placement 'main') it is NOT installed: a process-wide listener there would
 * change how the host process treats every other unhandled rejection.
 * @internal
 */
import { isMainThread } from 'node:worker_threads';

let installed = false;

/** True for a rejection lmdb-js left unawaited after a failed commit. */
export function isLmdbCommitRejection(reason: unknown): boolean {
  const text = `${(reason as Error)?.message ?? ''}\n${(reason as Error)?.stack ?? ''}`;
  return (reason as { commitError?: unknown })?.commitError !== undefined || /[\\/]lmdb[\\/]/.test(text);
}

/** Ignores lmdb's unawaited commit rejections in this worker thread; any other one still kills it. */
export function ignoreLmdbCommitRejections(): void {
  if (installed || isMainThread) return;
  installed = true;
  process.on('unhandledRejection', (reason) => {
    if (isLmdbCommitRejection(reason)) return;
    throw reason;
  });
}
