/**
 * The run host: a small node process the executor starts (src/actors/executor/run-host.ts) to spawn
 * and supervise every process run (commands, argv, modules with `isolation: 'process'`). Each run
 * is {@link executeRun}; many share this one event loop, since each mostly awaits its child.
 *
 * Why a process of its own (docs/architecture.md "Executor", docs/benchmarks.md W2): on Linux
 * libuv spawns with fork(), which copies the page tables of the whole forking process and
 * write-protects all its memory. From the scheduler — a heap per worker thread, the store's maps,
 * 150–250 MB — that fork was ~80% of the CPU of the threads that spawned, and every write after it
 * faulted; from this process (tens of MB, one JS thread) a spawn costs what a bare spawn loop pays.
 *
 * Messages come and go in batches (one IPC message carries every event of one event-loop turn).
 * When the scheduler goes away (the channel closes) the host exits: its runs are detached
 * process groups in their own cgroups, which the next start cleans up as any dead owner's.
 */
import { adoptContainment } from './run/cgroup-detect';
import { adoptOwnerToken } from './run/job-env';
import { executeRun, type RunExecution } from './run-task';
import { RUN_HOST_ENV, type FromHostMessage, type ToHostMessage } from '../actors/executor/types';

const runs = new Map<number, RunExecution>();
let out: FromHostMessage[] = [];
let flushing = false;

function flush(): void {
  flushing = false;
  if (out.length === 0 || !process.connected) return;
  const batch = out;
  out = [];
  process.send!(batch);
}

function emit(msg: FromHostMessage): void {
  out.push(msg);
  if (!flushing) {
    flushing = true;
    setImmediate(flush);
  }
}

function handle(msg: ToHostMessage): void {
  switch (msg.t) {
    case 'init':
      adoptOwnerToken(msg.owner);
      adoptContainment(msg.containment);
      return;
    case 'run': {
      const { key, request } = msg;
      const run = executeRun(request, (pid, startedAt) => emit({ t: 'started', key, pid, startedAt }));
      runs.set(key, run);
      void run.result.then((result) => {
        runs.delete(key);
        emit({ t: 'done', key, result });
      });
      return;
    }
    case 'cancel':
      runs.get(msg.key)?.cancel(msg.reason);
      return;
  }
}

/** Serves the executor on this process's IPC channel until it closes. */
function serve(): void {
  process.on('message', (batch: ToHostMessage[]) => {
    for (const msg of batch) handle(msg);
  });
  process.on('disconnect', () => process.exit(0));
}

// Only a process the executor started serves: importing this file (a test, a tool) does nothing.
if (process.env[RUN_HOST_ENV] === '1' && process.send !== undefined) {
  delete process.env[RUN_HOST_ENV];
  serve();
} else if (require.main === module) {
  process.stderr.write('rae-sched: error: the run host is started by the scheduler\'s executor, not by hand\n');
  process.exit(2);
}
