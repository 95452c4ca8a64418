/** Runs src/cli/store-tool.ts in a child process and reads its one-line answer. @internal */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** What the helper answered, or how it died. */
export type StoreToolResult = { ok: true; [k: string]: unknown } | { ok: false; error: string };

/** Runs `store-tool OP ...args`; a helper killed by a signal (a crash in LMDB) is reported as such. */
export function runStoreTool(args: string[], timeoutMs = 120_000): Promise<StoreToolResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(__dirname, 'store-tool.js'), ...args], { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        const parsed = JSON.parse(line) as StoreToolResult;
        if (typeof parsed === 'object' && parsed !== null && 'ok' in parsed) return resolve(parsed);
      } catch {
        // fall through: no answer
      }
      const e = err as (NodeJS.ErrnoException & { signal?: string; killed?: boolean }) | null;
      const why = e?.signal ? `crashed with ${e.signal} while reading the store` : e ? e.message.split('\n')[0]! : 'gave no answer';
      resolve({ ok: false, error: why });
    });
  });
}
