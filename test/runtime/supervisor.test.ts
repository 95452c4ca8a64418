import { VirtualClock } from '../../src/runtime/clock';
import { Supervisor, type ChildSpec, type SupervisorOptions } from '../../src/runtime/supervisor';
import { Harness, isType } from './fixtures/children';

function make(specs: (h: Harness) => ChildSpec[], o: Partial<SupervisorOptions> = {}) {
  const h = new Harness();
  const clock = new VirtualClock();
  const sup = new Supervisor(specs(h), { clock, onEvent: h.onEvent, ...o });
  return { h, clock, sup };
}

/** Log entries written after `mark`. */
const since = (log: string[], mark: number): string[] => log.slice(mark);

describe('Supervisor: start and stop order', () => {
  it('starts children in order and stops them in reverse', async () => {
    const { h, sup } = make((h) => [h.spec('a'), h.spec('b'), h.spec('c')]);
    await sup.start();
    expect(h.log).toEqual(['start:a', 'start:b', 'start:c']);
    await sup.stop();
    expect(since(h.log, 3)).toEqual(['stop:c', 'stop:b', 'stop:a']);
    await expect(sup.exited).resolves.toEqual({ normal: true });
  });

  it('a failing start stops the already-started children in reverse and rejects', async () => {
    const { h, sup } = make((h) => [h.spec('a'), h.spec('b'), h.spec('c', { failStarts: [1] }), h.spec('d')]);
    await expect(sup.start()).rejects.toThrow('c cannot start');
    expect(h.log).toEqual(['start:a', 'start:b', 'startfail:c', 'stop:b', 'stop:a']);
    expect((await sup.exited).normal).toBe(false);
  });
});

describe('Supervisor: strategies restart exactly the right children, in order', () => {
  const cases: Array<[SupervisorOptions['strategy'], string[]]> = [
    ['one_for_one', ['start:b']],
    ['rest_for_one', ['stop:d', 'stop:c', 'start:b', 'start:c', 'start:d']],
    ['one_for_all', ['stop:d', 'stop:c', 'stop:a', 'start:a', 'start:b', 'start:c', 'start:d']],
  ];
  it.each(cases)('%s', async (strategy, expected) => {
    const { h, sup } = make((h) => ['a', 'b', 'c', 'd'].map((id) => h.spec(id)), { strategy });
    await sup.start();
    const mark = h.log.length;
    const last = expected[expected.length - 1].slice('start:'.length);
    const done = h.next((e) => e.type === 'child.started' && e.id === last && e.restart);
    h.child('b').crash();
    await done;
    expect(since(h.log, mark)).toEqual(expected);
    expect(sup.children().map((c) => c.running)).toEqual([true, true, true, true]);
    await sup.stop();
  });
});

describe('Supervisor: restart type x exit reason', () => {
  const matrix: Array<[ 'permanent' | 'transient' | 'temporary', 'normal' | 'abnormal', boolean]> = [
    ['permanent', 'normal', true],
    ['permanent', 'abnormal', true],
    ['transient', 'normal', false],
    ['transient', 'abnormal', true],
    ['temporary', 'normal', false],
    ['temporary', 'abnormal', false],
  ];
  it.each(matrix)('%s child, %s exit -> restarted: %s', async (restart, exit, restarted) => {
    const { h, sup } = make((h) => [h.spec('x', { restart }), h.spec('y')]);
    await sup.start();
    const done = h.next((e) => (e.type === 'child.started' && e.restart) || e.type === 'child.terminated');
    if (exit === 'normal') h.child('x').exitNormally();
    else h.child('x').crash();
    await done;
    expect(h.log.filter((l) => l === 'start:x')).toHaveLength(restarted ? 2 : 1);
    const ids = sup.children().map((c) => c.id);
    // A temporary child is forgotten; a transient one that ended normally stays listed, not running.
    expect(ids).toEqual(restart === 'temporary' ? ['y'] : ['x', 'y']);
    if (!restarted && restart === 'transient') expect(sup.children()[0].running).toBe(false);
    await sup.stop();
  });

  it('temporary children are not restarted even as bystanders, and are forgotten', async () => {
    const { h, sup } = make((h) => [h.spec('a'), h.spec('t', { restart: 'temporary' }), h.spec('c')], { strategy: 'one_for_all' });
    await sup.start();
    const mark = h.log.length;
    const done = h.next((e) => e.type === 'child.started' && e.id === 'c' && e.restart);
    h.child('c').crash();
    await done;
    expect(since(h.log, mark)).toEqual(['stop:t', 'stop:a', 'start:a', 'start:c']);
    expect(sup.children().map((c) => c.id)).toEqual(['a', 'c']);
    await sup.stop();
  });

  it('temporary exits do not consume restart intensity', async () => {
    const { h, sup } = make((h) => [h.spec('t1', { restart: 'temporary' }), h.spec('t2', { restart: 'temporary' }), h.spec('p')],
      { intensity: { maxRestarts: 1, periodMs: 5000 } });
    await sup.start();
    for (const id of ['t1', 't2']) {
      const gone = h.next(isType('child.terminated', id));
      h.child(id).crash();
      await gone;
    }
    const restarted = h.next((e) => e.type === 'child.started' && e.id === 'p' && e.restart);
    h.child('p').crash();
    await restarted;
    expect(h.events.some((e) => e.type === 'supervisor.escalated')).toBe(false);
    await sup.stop();
  });
});

describe('Supervisor: restart intensity', () => {
  it('defaults to 1 restart in 5 s: the second crash stops all children in reverse and escalates', async () => {
    const { h, sup } = make((h) => [h.spec('a'), h.spec('b'), h.spec('c')]);
    await sup.start();
    const restarted = h.next((e) => e.type === 'child.started' && e.restart);
    h.child('b').crash();
    await restarted;
    const mark = h.log.length;
    h.child('b').crash(new Error('again'));
    const exit = await sup.exited;
    expect(since(h.log, mark)).toEqual(['stop:c', 'stop:a']);
    expect(exit.normal).toBe(false);
    expect(!exit.normal && (exit.error as { code?: string }).code).toBe('ACTOR_DEAD');
    expect(h.events.filter((e) => e.type === 'child.terminated').map((e) => 'id' in e && e.id)).toEqual(['c', 'b', 'a']);
  });

  it('MaxR restarts within MaxT are fine; MaxR+1 escalates', async () => {
    const { h, clock, sup } = make((h) => [h.spec('a')], { intensity: { maxRestarts: 3, periodMs: 10_000 } });
    await sup.start();
    for (let i = 0; i < 3; i++) {
      const r = h.next((e) => e.type === 'child.started' && e.restart);
      h.child('a').crash();
      await r;
      await clock.advance(1000);
    }
    h.child('a').crash();
    expect((await sup.exited).normal).toBe(false);
  });

  it('restarts spaced beyond the period never trip the limit', async () => {
    const { h, clock, sup } = make((h) => [h.spec('a')], { intensity: { maxRestarts: 1, periodMs: 1000 } });
    await sup.start();
    for (let i = 0; i < 6; i++) {
      await clock.advance(1001);
      const r = h.next((e) => e.type === 'child.started' && e.restart);
      h.child('a').crash();
      await r;
    }
    expect(sup.children()[0]).toEqual({ id: 'a', running: true, restarts: 6 });
    await sup.stop();
    expect(await sup.exited).toEqual({ normal: true });
  });

  it('a child failing while being restarted counts towards intensity and ends in escalation', async () => {
    const { h, sup } = make((h) => [h.spec('a', { failStarts: [2, 3] }), h.spec('b')], { intensity: { maxRestarts: 2, periodMs: 5000 } });
    await sup.start();
    h.child('a').crash();
    const exit = await sup.exited;
    expect(exit.normal).toBe(false);
    expect(h.log).toEqual(['start:a', 'start:b', 'startfail:a', 'startfail:a', 'stop:b']);
  });

  it('a sibling failing to start in the middle of a one_for_all restart: the round is undone and retried', async () => {
    const { h, sup } = make((h) => [h.spec('a'), h.spec('b', { failStarts: [2] }), h.spec('c')],
      { strategy: 'one_for_all', intensity: { maxRestarts: 5, periodMs: 5000 } });
    await sup.start();
    const mark = h.log.length;
    const done = h.next((e) => e.type === 'child.started' && e.id === 'c' && e.restart);
    h.child('a').crash();
    await done;
    expect(since(h.log, mark)).toEqual(['stop:c', 'stop:b', 'start:a', 'startfail:b', 'stop:a', 'start:a', 'start:b', 'start:c']);
    expect(sup.children().every((c) => c.running)).toBe(true);
    await sup.stop();
  });
});

describe('Supervisor: shutdown', () => {
  it('force-kills a hung child after its shutdownMs and goes on with the others', async () => {
    const { h, clock, sup } = make((h) => [h.spec('a'), h.spec('hung', { hang: true, shutdownMs: 2000 }), h.spec('c')]);
    await sup.start();
    let stopped = false;
    const stopping = sup.stop().then(() => { stopped = true; });
    await clock.advance(1999);
    expect(stopped).toBe(false);
    expect(h.log.slice(3)).toEqual(['stop:c', 'stop:hung']);
    await clock.advance(1);
    await stopping;
    expect(h.log.slice(3)).toEqual(['stop:c', 'stop:hung', 'kill:hung', 'stop:a']);
    expect(h.events.some(isType('child.killed', 'hung'))).toBe(true);
  });
});

describe('Supervisor: nested trees', () => {
  it('a child supervisor that gives up is restarted by its parent; stop reaches the leaves in reverse', async () => {
    const h = new Harness();
    const clock = new VirtualClock();
    const inner = (): ChildSpec => ({
      id: 'inner', shutdownMs: Infinity,
      start: async () => {
        const s = new Supervisor([h.spec('x'), h.spec('y')], { name: 'inner', clock, intensity: { maxRestarts: 0, periodMs: 5000 } });
        await s.start();
        return s;
      },
    });
    const root = new Supervisor([h.spec('a'), inner()], { name: 'root', clock, onEvent: h.onEvent });
    await root.start();
    expect(h.log).toEqual(['start:a', 'start:x', 'start:y']);
    const restarted = h.next((e) => e.type === 'child.started' && e.id === 'inner' && e.restart);
    h.child('x').crash();
    await restarted;
    expect(h.log.slice(3)).toEqual(['stop:y', 'start:x', 'start:y']);
    expect(h.events.find(isType('child.exited', 'inner'))).toMatchObject({ reason: { normal: false } });
    await root.stop();
    expect(h.log.slice(6)).toEqual(['stop:y', 'stop:x', 'stop:a']);
  });
});

describe('Supervisor: a child in a restart loop', () => {
  it('keeps the supervisor responsive: other children are restarted meanwhile, and stop ends the loop', async () => {
    const fails = Array.from({ length: 50 }, (_, i) => i + 2); // every restart of `a` fails
    const { h, clock, sup } = make((h) => [h.spec('a', { failStarts: fails }), h.spec('b')], {
      intensity: { maxRestarts: 1000, periodMs: 1_000_000 }, random: () => 0,
      backoff: { minMs: 100, maxMs: 400, randomFactor: 0, resetAfterMs: 1_000_000 },
    });
    await sup.start();
    h.child('a').crash();
    await clock.advance(100 + 200 + 400);
    expect(h.log.filter((l) => l === 'startfail:a')).toHaveLength(3);
    // In the middle of a's loop, b crashes: it is restarted on its own schedule.
    const bBack = h.next((e) => e.type === 'child.started' && e.id === 'b' && e.restart);
    h.child('b').crash();
    await clock.advance(100);
    await bBack;
    expect(sup.children()).toEqual([{ id: 'a', running: false, restarts: 0 }, { id: 'b', running: true, restarts: 1 }]);
    // stop() is not stuck behind the loop, and cancels it.
    await sup.stop();
    const attempts = h.log.filter((l) => l === 'startfail:a').length;
    await clock.advance(10_000);
    expect(h.log.filter((l) => l === 'startfail:a')).toHaveLength(attempts);
    expect(clock.pendingTimers).toBe(0);
    expect(await sup.exited).toEqual({ normal: true });
    expect(h.log.slice(-1)).toEqual(['stop:b']);
  });
});
