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

  it('leaves the reserved $ handlers alone', () => {
    const inj = new CrashInjector('x.$stop');
    expect(inj.wrap('x', handlers()).$stop()).toBe('stopped');
  });
});
