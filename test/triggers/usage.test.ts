import { OsUsageSource } from '../../src/actors/triggers/usage';

describe('OsUsageSource (the real machine)', () => {
  test('reports percentages in range and a non-negative load', async () => {
    const src = new OsUsageSource();
    // Burn a little CPU so the cumulative counters move between the two samples.
    const until = Date.now() + 50;
    while (Date.now() < until) { /* busy */ }
    await new Promise<void>((r) => setImmediate(r));
    for (const s of [src.sample(), src.sample()]) {
      expect(s.cpu).toBeGreaterThanOrEqual(0);
      expect(s.cpu).toBeLessThanOrEqual(100);
      expect(s.memory).toBeGreaterThan(0);
      expect(s.memory).toBeLessThanOrEqual(100);
      expect(s.load).toBeGreaterThanOrEqual(0);
    }
  });
});
