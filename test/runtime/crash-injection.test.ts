/** CrashInjector: which handlers throw, how often, and what is left alone. */
import { CrashInjector } from '../../src/runtime/crash-injection';

const handlers = () => ({
  a: (p: { n: number }) => p.n + 1,
  b: (_p: Record<string, never>) => 'b',
  $stop: () => 'stopped',
});

describe('CrashInjector', () => {
  it('passes every message through when nothing is armed', () => {
    const h = new CrashInjector('').wrap('x', handlers());
    expect(h.a({ n: 1 })).toBe(2);
    expect(h.b({})).toBe('b');
  });

  it('the environment spec makes the named messages of the named actor throw, every time', () => {
    const inj = new CrashInjector('x.a, y.b');
    const x = inj.wrap('x', handlers());
    for (let i = 0; i < 3; i++) expect(() => x.a({ n: 1 })).toThrow('injected crash (RAE_SCHED_INJECT_CRASH=x.a, y.b): x.a');
    expect(x.b({})).toBe('b');
    expect(() => inj.wrap('y', handlers()).b({})).toThrow(/y\.b/);
  });

  it('arm makes the next `times` messages throw a plain Error (not a SchedulerError), then stops', () => {
    const inj = new CrashInjector('');
    const x = inj.wrap('x', handlers());
    inj.arm('x', 'a', 2);
    for (let i = 0; i < 2; i++) {
      let thrown: unknown;
      try { x.a({ n: 1 }); } catch (err) { thrown = err; }
      expect(thrown).toBeInstanceOf(Error);
      expect((thrown as { code?: string }).code).toBeUndefined();
    }
    expect(x.a({ n: 1 })).toBe(2);
  });

  it('a hang (arm or `:hang` in the spec) returns a promise that never settles instead of running the handler', async () => {
    const inj = new CrashInjector('x.b:hang');
    const x = inj.wrap('x', handlers());
    inj.arm('x', 'a', 1, 'hang');
    const hung = x.a({ n: 1 }) as unknown as Promise<number>;
    expect(hung).toBeInstanceOf(Promise);
    const raced = await Promise.race([hung, new Promise((r) => setTimeout(() => r('still pending'), 50))]);
    expect(raced).toBe('still pending');
    expect(x.a({ n: 1 })).toBe(2);
    expect(x.b({})).toBeInstanceOf(Promise);
    expect(x.b({})).toBeInstanceOf(Promise);
  });

  it('armed throws and hangs of one message type come in the order they were armed', () => {
    const inj = new CrashInjector('');
    const x = inj.wrap('x', handlers());
    inj.arm('x', 'a', 1, 'hang');
    inj.arm('x', 'a', 1, 'throw');
    expect(x.a({ n: 1 })).toBeInstanceOf(Promise);
    expect(() => x.a({ n: 1 })).toThrow('injected crash (test): x.a');
    expect(x.a({ n: 1 })).toBe(2);
  });

  it('a delay runs the handler late (real time), once', async () => {
    const inj = new CrashInjector('');
    const x = inj.wrap('x', handlers());
    inj.arm('x', 'a', 1, { delayMs: 100 });
    const t0 = Date.now();
    expect(await (x.a({ n: 1 }) as unknown as Promise<number>)).toBe(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    expect(x.a({ n: 2 })).toBe(3);
  });

  it('leaves the reserved $ handlers alone', () => {
    const inj = new CrashInjector('x.$stop');
    expect(inj.wrap('x', handlers()).$stop()).toBe('stopped');
  });
});
