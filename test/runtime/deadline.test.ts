/** The one real-time deadline on a promise (src/runtime/deadline.ts). */
import { LATE, withDeadline } from '../../src/runtime/deadline';

describe('withDeadline', () => {
  it("answers the promise's value when it settles first, and leaves no timer behind", async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    expect(await withDeadline(Promise.resolve(7), 60_000)).toBe(7);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before);
  });

  it('answers LATE once the time passed first (a promise that never settles)', async () => {
    expect(await withDeadline(new Promise<never>(() => undefined), 5)).toBe(LATE);
  });

  it('rejects with the error of a promise that fails before the deadline', async () => {
    await expect(withDeadline(Promise.reject(new Error('boom')), 60_000)).rejects.toThrow('boom');
  });

  it('unref: the waiting timer does not keep the process alive; without it, it does', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const background = withDeadline(held, 60_000, { unref: true });
    expect(timers()).toBe(before);
    const foreground = withDeadline(held, 60_000);
    expect(timers()).toBe(before + 1);
    release();
    expect([await background, await foreground]).toEqual([undefined, undefined]);
    expect(timers()).toBe(before);
  });
});
