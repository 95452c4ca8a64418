/**
 * Module isolation through the whole library: a module job runs in a thread by default, in a
 * child process with `isolation: 'process'`, and backup/restore keeps the choice (a job from a
 * backup made before the field existed runs as it did then: in a process).
 */
import fs from 'node:fs';
import path from 'node:path';
import { useSchedulers } from '../helpers/scheduler';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const sched = useSchedulers();

function pidModule(): string {
  const file = path.join(sched.dir(), 'pid.js');
  fs.writeFileSync(file, 'module.exports = (ctx) => ({ pid: process.pid, job: ctx.jobName });');
  return file;
}

it("runs a module job in a thread by default and in its own process with isolation 'process'", async () => {
  const { s } = await sched.open(T0);
  const module = pidModule();
  const inThread = await s.addJob({ name: 'in-thread', schedule: 'never', module });
  const inProcess = await s.addJob({ name: 'in-process', schedule: 'never', module, isolation: 'process' });
  expect([inThread.isolation, inProcess.isolation]).toEqual(['thread', 'process']);
  expect((await s.getJob('in-thread')).isolation).toBe('thread');
  const t = await s.waitForRun((await s.runNow('in-thread')).id);
  const p = await s.waitForRun((await s.runNow('in-process')).id);
  expect(t.status).toBe('succeeded');
  expect(JSON.parse(t.output)).toEqual({ pid: process.pid, job: 'in-thread' });
  expect(p.status).toBe('succeeded');
  const other = JSON.parse(p.output) as { pid: number; job: string };
  expect(other.job).toBe('in-process');
  expect(other.pid).not.toBe(process.pid);
  await expect(s.addJob({ name: 'cmd', schedule: 'never', command: 'true', isolation: 'thread' }))
    .rejects.toMatchObject({ code: 'VALIDATION', field: 'isolation' });
});

it('backup → restore keeps each job’s isolation; a job from an older backup without it runs in a process', async () => {
  const { s } = await sched.open(T0);
  const module = pidModule();
  await s.addJob({ name: 'a', schedule: 'never', module, isolation: 'process' });
  await s.addJob({ name: 'b', schedule: 'never', module });
  await s.addJob({ name: 'c', schedule: 'never', command: 'true' });
  const doc = JSON.parse(JSON.stringify(await s.backup())) as { jobs: Array<Record<string, unknown>> };
  expect(Object.fromEntries(doc.jobs.map((j) => [j.name, j.isolation]))).toEqual({ a: 'process', b: 'thread', c: null });
  // A backup written before `isolation` existed has no such field.
  const old = { ...doc, jobs: doc.jobs.map((j) => (j.name === 'b' ? Object.fromEntries(Object.entries(j).filter(([k]) => k !== 'isolation')) : j)) };
  await s.restore(doc);
  expect((await s.listJobs()).map((j) => [j.name, j.isolation])).toEqual([['a', 'process'], ['b', 'thread'], ['c', null]]);
  await s.restore(old);
  const b = await s.getJob('b');
  expect(b.isolation ?? null).toBeNull();
  const r = await s.waitForRun((await s.runNow('b')).id);
  expect(r.status).toBe('succeeded');
  expect((JSON.parse(r.output) as { pid: number }).pid).not.toBe(process.pid);
});
