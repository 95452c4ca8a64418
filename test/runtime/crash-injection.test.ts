/** CrashInjector and runInjected: which messages get a fault, how often, what it does, what is left alone. */
import { CrashInjector, runInjected } from '../../src/runtime/crash-injection';

const handlers = {
  a: (p: { n: number }) => p.n + 1,
  b: (_p: unknown) => 'b',
  $stop: (_p: unknown) => 'stopped',
};

/** One message of `actor` through the injector, as the mailbox hands it over (ActorCell). */
const send = (inj: CrashInjector, actor: string, type: keyof typeof handlers, payload: unknown = { n: 1 }): unknown =>
  runInjected(inj.take(actor, type), () => (handlers[type] as (p: unknown) => unknown)(payload));

describe('CrashInjector', () => {
  it('passes every message through when nothing is armed', () => {
    const inj = new CrashInjector('');
    expect(inj.take('x', 'a')).toBeUndefined();
    expect(send(inj, 'x', 'a')).toBe(2);
    expect(send(inj, 'x', 'b')).toBe('b');
  });

  it('the environment spec makes the named messages of the named actor throw, every time', () => {
    const inj = new CrashInjector('x.a, y.b');
    for (let i = 0; i < 3; i++) expect(() => send(inj, 'x', 'a')).toThrow('injected crash (RAE_SCHED_INJECT_CRASH=x.a, y.b): x.a');
    expect(send(inj, 'x', 'b')).toBe('b');
    expect(() => send(inj, 'y', 'b')).toThrow(/y\.b/);
  });

  it('arm makes the next `times` messages throw a plain Error (not a SchedulerError), then stops', () => {
    const inj = new CrashInjector('');
    inj.arm('x', 'a', 2);
    for (let i = 0; i < 2; i++) {
      let thrown: unknown;
      try { send(inj, 'x', 'a'); } catch (err) { thrown = err; }
      expect(thrown).toBeInstanceOf(Error);
      expect((thrown as { code?: string }).code).toBeUndefined();
    }
    expect(send(inj, 'x', 'a')).toBe(2);
  });

  it('the fault it decides is plain data (it crosses the thread wire)', () => {
    const inj = new CrashInjector('');
    inj.arm('x', 'a', 1, 'hang');
    inj.arm('x', 'a', 1, { delayMs: 5 });
    inj.arm('x', 'a');
    const faults = [inj.take('x', 'a'), inj.take('x', 'a'), inj.take('x', 'a')];
    expect(faults).toEqual([{ kind: 'hang' }, { kind: 'delay', ms: 5 }, { kind: 'throw', message: 'injected crash (test): x.a' }]);
    expect(structuredClone(faults)).toEqual(faults);
    expect(inj.take('x', 'a')).toBeUndefined();
  });

  it('a hang (arm or `:hang` in the spec) returns a promise that never settles instead of running the handler', async () => {
    const inj = new CrashInjector('x.b:hang');
    inj.arm('x', 'a', 1, 'hang');
    const hung = send(inj, 'x', 'a') as Promise<number>;
    expect(hung).toBeInstanceOf(Promise);
    const raced = await Promise.race([hung, new Promise((r) => setTimeout(() => r('still pending'), 50))]);
    expect(raced).toBe('still pending');
    expect(send(inj, 'x', 'a')).toBe(2);
    expect(send(inj, 'x', 'b')).toBeInstanceOf(Promise);
    expect(send(inj, 'x', 'b')).toBeInstanceOf(Promise);
  });

  it('armed throws and hangs of one message type come in the order they were armed', () => {
    const inj = new CrashInjector('');
    inj.arm('x', 'a', 1, 'hang');
    inj.arm('x', 'a', 1, 'throw');
    expect(send(inj, 'x', 'a')).toBeInstanceOf(Promise);
    expect(() => send(inj, 'x', 'a')).toThrow('injected crash (test): x.a');
    expect(send(inj, 'x', 'a')).toBe(2);
  });

  it('a delay runs the handler late (real time), once', async () => {
    const inj = new CrashInjector('');
    inj.arm('x', 'a', 1, { delayMs: 100 });
    const t0 = Date.now();
    expect(await (send(inj, 'x', 'a') as Promise<number>)).toBe(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    expect(send(inj, 'x', 'a', { n: 2 })).toBe(3);
  });

  it('leaves the reserved $ handlers alone', () => {
    const inj = new CrashInjector('x.$stop');
    expect(inj.take('x', '$stop')).toBeUndefined();
    expect(send(inj, 'x', '$stop')).toBe('stopped');
  });
});
