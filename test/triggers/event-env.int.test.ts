/** A watch-triggered run is told what changed: env for commands, `ctx.event` for modules. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { createScheduler, type Scheduler } from '../../src/index';
import type { Run } from '../../src/model/run';
import { MAX_INLINE_PATHS_BYTES, eventEnv, eventFromEnv } from '../../src/workers/run/event-env';
import { removeDir, tempDir } from '../helpers/scheduler';

jest.setTimeout(60_000);

let dir: string;
let s: Scheduler;
beforeEach(async () => {
  dir = tempDir('rae-event-');
  s = await createScheduler({ dataDir: join(dir, 'data') });
});
afterEach(async () => {
  await s.shutdown({ graceMs: 0 });
  removeDir(dir);
});

const finished = (name: string): Promise<Run> => s.getJob(name).then((job) => firstValueFrom(s.events$.pipe(
  filter((e) => e.type === 'run.finished' && e.run.jobId === job.id),
  timeout(40_000),
)).then((e) => (e as { run: Run }).run));

describe('file triggers tell the run what changed', () => {
  it('a command gets RAE_EVENT_TYPE, RAE_EVENT_PATH and RAE_EVENT_PATHS', async () => {
    const watched = join(dir, 'in');
    mkdirSync(watched);
    await s.addJob({
      name: 'cmd', schedule: 'never', command: 'printf "%s|%s|%s" "$RAE_EVENT_TYPE" "$RAE_EVENT_PATH" "$RAE_EVENT_PATHS"',
      // Two writes must land in one debounced batch; under heavy load inotify delivery can lag by
      // more than a second, so the quiet period is generous (a test of batching, not of timing).
      triggers: [{ type: 'watch', paths: [watched], debounceMs: 3000 }],
    });
    // Collect runs until both writes were reported: normally ONE debounced run lists both, but
    // a CI run once saw inotify deliver b.txt after a 3 s quiet period (5f43a5d raised it from
    // 1 s for the same split) — then the second run must carry it, and nothing may be lost or doubled.
    const job = await s.getJob('cmd');
    const outputs: Run[] = [];
    const sub = s.events$.subscribe((e) => {
      if (e.type === 'run.finished' && e.run.jobId === job.id) outputs.push(e.run);
    });
    writeFileSync(join(watched, 'a.txt'), 'x');
    writeFileSync(join(watched, 'b.txt'), 'y');
    const reported = (): string[] => outputs.flatMap((r) => r.output.split('|')[2]!.split('\n'));
    const deadline = Date.now() + 40_000;
    while (reported().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    sub.unsubscribe();
    const run = outputs[0]!;
    expect(run.trigger).toBe('event');
    const [type, first] = run.output.split('|');
    expect(type).toBe('create');
    expect(first).toBe(join(watched, 'a.txt'));
    expect(reported()).toEqual([join(watched, 'a.txt'), join(watched, 'b.txt')]);
  });

  it('a module gets the same as ctx.event', async () => {
    const watched = join(dir, 'in');
    mkdirSync(watched);
    const mod = join(dir, 'job.js');
    writeFileSync(mod, 'module.exports = (ctx) => ctx.event;\n');
    await s.addJob({ name: 'mod', schedule: 'never', module: mod, triggers: [{ type: 'watch', paths: [watched], debounceMs: 1000 }] });
    const done = finished('mod');
    writeFileSync(join(watched, 'c.txt'), 'x');
    const run = await done;
    expect(run.status).toBe('succeeded');
    expect(JSON.parse(run.output.trim().split('\n').pop()!)).toEqual({ type: 'create', path: join(watched, 'c.txt'), paths: [join(watched, 'c.txt')] });
  });

  it('a manual run has no event variables', async () => {
    await s.addJob({ name: 'plain', schedule: 'never', command: 'printf "[%s]" "${RAE_EVENT_TYPE-unset}"' });
    const run = await s.waitForRun((await s.runNow('plain')).id);
    expect(run.output).toBe('[unset]');
  });
});

describe('eventEnv', () => {
  it('puts a long list of paths in a private file, removed on cleanup', () => {
    const paths = Array.from({ length: 2000 }, (_, i) => `/data/incoming/some/deep/folder/file-${i}.csv`);
    expect(Buffer.byteLength(paths.join('\n'))).toBeGreaterThan(MAX_INLINE_PATHS_BYTES);
    const e = eventEnv({ type: 'update', path: paths[0]!, paths });
    expect(e.vars.RAE_EVENT_PATHS).toBeUndefined();
    const file = e.vars.RAE_EVENT_PATHS_FILE!;
    expect(readFileSync(file, 'utf8').split('\n').filter((l) => l !== '')).toEqual(paths);
    expect(eventFromEnv(e.vars)).toEqual({ type: 'update', path: paths[0], paths });
    e.cleanup();
    expect(existsSync(file)).toBe(false);
  });

  it('passes a short list inline', () => {
    const e = eventEnv({ type: 'delete', path: '/a', paths: ['/a', '/b'] });
    expect(e.vars).toEqual({ RAE_EVENT_TYPE: 'delete', RAE_EVENT_PATH: '/a', RAE_EVENT_PATHS: '/a\n/b' });
    expect(eventEnv(null).vars).toEqual({});
  });
});
