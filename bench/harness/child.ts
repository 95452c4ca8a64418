/**
 * One measurement per fresh child process. The parent forks a built workload file with
 * `--child <fn> <json-args>`; the child runs `fn`, sends ONE {@link Sample} back and exits. A child
 * that crashes, is killed by the OOM killer or overruns its budget becomes an error line in the
 * results, never a missing row.
 */
import { fork } from 'node:child_process';
import type { Sample } from './types';

/** How the child side hands its sample over before a slow cleanup (e.g. a scheduler's shutdown). */
export interface ChildContext {
  /** Sends the sample now; the parent stops timing the child's own figures there. */
  deliver(sample: Sample): void;
  /**
   * Figures so far: if the child overruns its budget, the parent keeps the newest of these (with a
   * note saying so) instead of an error with no figures.
   */
  partial(sample: Sample): void;
  /** A line of progress (the parent prints it while the measurement runs). */
  progress(text: string): void;
}

/** What a child sends besides its one sample. */
type ChildMessage = { partial: Sample } | { progress: string } | { done: true };

/** A child's workload function. */
export type ChildFn = (args: never, ctx: ChildContext) => Promise<Sample | void>;

/** Options of {@link runChild}. */
export interface RunChildOptions {
  execArgv?: string[];
  timeoutMs: number;
  /** After the sample arrived, how long the child may take to exit before it is killed. @default 60000 */
  exitGraceMs?: number;
  /** Receives the child's progress lines. */
  onProgress?(text: string): void;
}

/** Last `max` characters of a stream, for error messages. */
function tail(max: number): { push(b: Buffer): void; text(): string } {
  let s = '';
  return {
    push: (b) => { s = (s + b.toString('utf8')).slice(-max); },
    text: () => s.trim(),
  };
}

/**
 * Runs `fn` of the built file `file` in a fresh node process and resolves with its sample. The
 * child's stdout/stderr are captured (their tail goes into the error of a failed child) so that they
 * do not break the progress line.
 */
export function runChild(file: string, fn: string, args: unknown, opts: RunChildOptions): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const out = tail(2000);
    const child = fork(file, ['--child', fn, JSON.stringify(args ?? null)], {
      execArgv: ['--expose-gc', ...(opts.execArgv ?? [])],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    child.stdout?.on('data', out.push);
    child.stderr?.on('data', out.push);
    let sample: Sample | undefined;
    let lateNote: string | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    let partial: Sample | undefined;
    const budget = setTimeout(() => {
      child.kill('SIGKILL');
      const over = `no result within its ${Math.round(opts.timeoutMs / 1000)} s budget (killed)`;
      if (partial === undefined) {
        reject(new Error(over));
        return;
      }
      // The figures it had reached: a partial sample, said so (the child's exit is not awaited).
      sample = { ...partial, notes: [...(partial.notes ?? []), `${over}: figures as of its last partial report`] };
      resolve(sample);
    }, opts.timeoutMs);
    child.on('message', (m) => {
      if (sample !== undefined) return;
      const msg = m as ChildMessage;
      if ('partial' in msg) {
        partial = msg.partial;
        return;
      }
      if ('progress' in msg) {
        opts.onProgress?.(msg.progress);
        return;
      }
      if ('done' in msg) return;
      sample = m as Sample;
      clearTimeout(budget);
      graceTimer = setTimeout(() => {
        lateNote = `child did not exit within ${Math.round((opts.exitGraceMs ?? 60_000) / 1000)} s after its result (killed)`;
        child.kill('SIGKILL');
      }, opts.exitGraceMs ?? 60_000);
    });
    child.on('error', (err) => {
      clearTimeout(budget);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(budget);
      if (graceTimer !== undefined) clearTimeout(graceTimer);
      if (sample === undefined) {
        const lines = out.text().split('\n');
        const own = lines.filter((l) => l.startsWith('bench child error: ')).pop();
        const why = own?.slice('bench child error: '.length) ?? lines.slice(-3).join(' | ');
        const exited = `child exited with ${code ?? signal} before its result${why ? `: ${why}` : ''}`;
        if (partial === undefined) reject(new Error(exited));
        else resolve({ ...partial, notes: [...(partial.notes ?? []), `${exited}; figures as of its last partial report`] });
        return;
      }
      const notes = [...(sample.notes ?? [])];
      if (lateNote !== undefined) notes.push(lateNote);
      else if (code !== 0) notes.push(`child exited with ${code ?? signal} after its result`);
      resolve({ ...sample, notes });
    });
  });
}

/**
 * The child side: when argv holds `--child <fn> <json>`, runs `fns[fn](args)`, sends its sample and
 * exits (leftover handles must not keep it alive); returns false in the parent.
 */
export function childMain(fns: Record<string, ChildFn>): boolean {
  const i = process.argv.indexOf('--child');
  if (i < 0) return false;
  const name = process.argv[i + 1] ?? '';
  const fn = fns[name];
  if (fn === undefined) {
    console.error(`bench child: unknown function '${name}'`);
    process.exit(2);
  }
  const args = JSON.parse(process.argv[i + 2] ?? 'null') as never;
  let sent = false;
  const deliver = (s: Sample): void => {
    if (sent) return;
    sent = true;
    process.send!(s);
  };
  const ctx: ChildContext = {
    deliver,
    partial: (s) => { if (!sent) process.send!({ partial: s } satisfies ChildMessage); },
    progress: (text) => { if (!sent) process.send!({ progress: text } satisfies ChildMessage); },
  };
  void (async () => {
    try {
      const s = await fn(args, ctx);
      if (s !== undefined) deliver(s);
      if (!sent) throw new Error(`bench child '${name}' returned no sample`);
      // Exit once the IPC channel has flushed the sample.
      process.send!({ done: true }, () => process.exit(0));
    } catch (err) {
      const e = err as { name?: string; message?: string; code?: string; stack?: string };
      console.error(e.stack ?? String(err));
      // Last line: what the parent shows for a failed child.
      console.error(`bench child error: ${e.name ?? 'Error'}${e.code ? ` ${e.code}` : ''}: ${e.message ?? String(err)}`);
      process.exit(1);
    }
  })();
  return true;
}
