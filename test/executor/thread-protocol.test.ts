import { packRequests, unpackRequests } from '../../src/actors/executor/thread-protocol';
import type { RunRequest } from '../../src/actors/executor/types';

const base = (jobId: string, over: Partial<RunRequest> = {}): Omit<RunRequest, 'runId' | 'attempt'> => ({
  jobId, command: null, module: `/jobs/${jobId}.js`, cwd: null, env: { A: jobId }, inheritEnv: false,
  limits: {}, event: null, isolation: 'thread', jobName: jobId, scheduledAt: '2026-12-01T00:00:00.000Z', ...over,
});

describe('module task requests crossing to a thread', () => {
  it('carry each job once and come back as the same requests, in order', () => {
    const a = base('job_a');
    const b = base('job_b');
    const event = { type: 'create' as const, path: '/in/x', paths: ['/in/x'] };
    const reqs: RunRequest[] = [
      { ...a, runId: 'run_1', attempt: 1 },
      { ...b, runId: 'run_2', attempt: 2, scheduledAt: '2026-12-01T00:00:01.000Z' },
      { ...a, runId: 'run_3', attempt: 1, event },
      { ...a, runId: 'run_4', attempt: 3, scheduledAt: undefined },
    ];
    const packed = packRequests(reqs);
    expect(packed.jobs).toHaveLength(2);
    expect(packed.runs).toHaveLength(4);
    // What a thread gets is a structured clone of the payload.
    const back = unpackRequests(structuredClone(packed));
    expect(back.map((r) => ({ ...r }))).toEqual(reqs.map((r) => ({ ...r, scheduledAt: r.scheduledAt, event: r.event })));
  });

  it('keep two versions of one job apart (its spec changed between runs of one batch)', () => {
    const before = base('job_a');
    const after = base('job_a', { env: { A: 'changed' }, limits: { maxCpuPercent: 50 } });
    const reqs: RunRequest[] = [
      { ...before, runId: 'run_1', attempt: 1 },
      { ...after, runId: 'run_2', attempt: 1 },
      { ...before, runId: 'run_3', attempt: 1 },
    ];
    const packed = packRequests(reqs);
    expect(packed.jobs).toHaveLength(2);
    const back = unpackRequests(structuredClone(packed));
    expect(back.map((r) => [r.runId, r.env, r.limits])).toEqual([
      ['run_1', { A: 'job_a' }, {}],
      ['run_2', { A: 'changed' }, { maxCpuPercent: 50 }],
      ['run_3', { A: 'job_a' }, {}],
    ]);
  });
});
