/**
 * Regression: replies must not outlive their ask. Racing every call against an incarnation's
 * long-lived "gone" promise kept each reply reachable until the actor died — ~800 bytes per job the
 * scheduler loaded at start-up. 40 replies of ~1 MB each would leak ~40 MB; the bound is 8 MB.
 */
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ActorSystem } from '../../src/runtime/system';
import { SystemClock } from '../../src/runtime/clock';
import { actorModule } from '../../src/runtime/types';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const logic = actorModule<typeof import('./fixtures/echo-actor')>(join(__dirname, 'fixtures', 'echo-actor.js')).logic('createEcho');

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

describe('replies are not retained after their ask settles', () => {
  it('thread actor', async () => {
    const system = new ActorSystem({ clock: new SystemClock() });
    try {
      const a = system.spawn({ name: 'echo', logic, placement: 'thread', init: { tag: 'T' } });
      const chunk = 'x'.repeat(1 << 20);
      await a.ask('echo', 'warm-up');
      const before = await heapAfterGc();
      for (let i = 0; i < 40; i++) expect((await a.ask('echo', chunk + i)).length).toBe(chunk.length + 2 + String(i).length);
      expect(await heapAfterGc() - before).toBeLessThan(8 << 20);
    } finally {
      await system.stop();
    }
  });
});
