/**
 * A shutdown never hangs (issue 8): each step has a deadline in real time — a virtual clock that
 * stands still, as after a test's last `advance`, must not hold it — and a step past it is logged
 * and the stop goes on. A commit waiting out its retry backoff is retried at once by the drain; an
 * executor that does not close (a run whose end never comes back) is crashed, and its runs are
 * recorded `interrupted`. Virtual clock, real LMDB, real processes.
 */
import type { Logger } from '../../src/model';
import { testHooksOf, type InternalOptions } from '../../src/scheduler';
import { FINAL_RUN_STATUSES } from '../../src/model/run';
import { readStore } from '../helpers/ledger';
import { useSchedulers } from '../helpers/scheduler';
import { eventually } from '../cli/harness';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const ON_MAIN = { queue: 'main', executor: 'main', monitor: 'main', triggers: 'main' } as const;

/** A logger that keeps its error lines. */
function capture(): { logger: Logger; errors: Array<{ obj: Record<string, unknown>; msg: string }> } {
  const errors: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  const none = (): void => undefined;
  return { errors, logger: { debug: none, info: none, warn: none, error: (obj, msg) => errors.push({ obj: obj as Record<string, unknown>, msg: msg ?? '' }) } };
}

describe('a shutdown never hangs', () => {
  const fixture = useSchedulers();

  // The time.int hang: the final record's commit failed and waited for a retry timer on a virtual
  // clock nobody advanced any more; the drain waited for it until its deadline (30 s), and the
  // record was never written.
  it('a commit waiting out its retry backoff is retried by the drain at once: the record is written', async () => {
    const { logger, errors } = capture();
    const { s } = await fixture.open(T0, { logger, shutdownSlackMs: 5000 } as InternalOptions);
    await s.addJob({ name: 'once', schedule: 'never', command: 'true' });
    await testHooksOf(s).storeFault({ mode: 'fail', times: 1, when: 'finishes' });
    const run = await s.runNow('once');
    // Its final record's commit failed; the retry waits for virtual time, which stands still here.
    await eventually(async () => ((await s.health()).components.store?.healthy === false ? true : undefined), 'the finish commit to fail', 20_000);
    await s.shutdown({ graceMs: 1000 });
    expect(errors.filter((e) => /^shutdown:/.test(e.msg))).toEqual([]);
    const { jobs, unfinished } = await readStore(fixture.dir(), [run.jobId]);
    expect(unfinished).toBe(0);
    expect(jobs.get(run.jobId)!.runs.map((r) => [r.id, r.status])).toEqual([[run.id, 'succeeded']]);
  }, 60_000);

  // A run the engine believes in flight whose end never comes back (the executor's hand-over hangs:
  // the ghost of issue 8). Before, the executor's `close` was asked with a deadline on the virtual
  // clock and the shutdown waited forever.
  it('an executor that does not close in time is crashed; its run is recorded interrupted, the reason logged', async () => {
    const { logger, errors } = capture();
    const { s } = await fixture.open(T0, { logger, placement: ON_MAIN, shutdownSlackMs: 500 } as InternalOptions);
    await s.addJob({ name: 'ghost', schedule: 'never', command: 'true' });
    testHooksOf(s).throwIn('executor', 'startMany', 1, 'hang');
    const started = new Promise<void>((resolve) => {
      const sub = s.events$.subscribe((e) => { if (e.type === 'run.started') { sub.unsubscribe(); resolve(); } });
    });
    const run = await s.runNow('ghost');
    await started;
    await s.shutdown({ graceMs: 0 });
    const late = errors.find((e) => /^shutdown: the executor closing did not finish/.test(e.msg));
    expect(late?.obj).toMatchObject({ step: 'the executor closing', running: [run.id] });
    const { jobs, unfinished } = await readStore(fixture.dir(), [run.jobId]);
    expect(unfinished).toBe(0);
    const stored = jobs.get(run.jobId)!.runs;
    expect(stored.map((r) => [r.id, r.status])).toEqual([[run.id, 'interrupted']]);
    expect(stored[0]!.error).toMatch(/executor.*crashed.*did not close/);
    expect(stored.every((r) => FINAL_RUN_STATUSES.includes(r.status))).toBe(true);
  }, 60_000);
});
