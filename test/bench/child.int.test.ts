/**
 * The bench harness's child protocol with real child processes: a measurement that overruns its
 * budget keeps the figures it had reported (W3 at 10,000 jobs printed nothing before), and its
 * progress lines reach the parent.
 */
import path from 'node:path';
import { runChild } from '../../bench/harness/child';

const CHILD = path.join(__dirname, 'fixtures', 'partial-child.js');

describe('runChild', () => {
  it('keeps the newest partial figures of a child that overruns its budget, and says so', async () => {
    const lines: string[] = [];
    const s = await runChild(CHILD, 'stuck', null, { timeoutMs: 8000, onProgress: (t) => lines.push(t) });
    expect(s.metrics).toEqual({ expected: 10, ran: 4 });
    expect(s.notes?.[0]).toBe('half way');
    expect(s.notes?.[1]).toMatch(/^no result within its 8 s budget \(killed\): figures as of its last partial report$/);
    expect(lines).toEqual(['half way']);
  }, 30_000);

  it('a child that dies after partial figures gives them, with why it stopped', async () => {
    const s = await runChild(CHILD, 'crash', null, { timeoutMs: 20_000 });
    expect(s.metrics).toEqual({ expected: 10, ran: 3 });
    expect(s.notes?.[0]).toMatch(/^child exited with 3 before its result.*figures as of its last partial report$/);
  }, 30_000);

  it('a child that delivers gives its sample, not a partial one', async () => {
    const s = await runChild(CHILD, 'whole', null, { timeoutMs: 20_000 });
    expect(s.metrics).toEqual({ expected: 10, ran: 10 });
  }, 30_000);
});
