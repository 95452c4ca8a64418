/** The built parser actor, hosted in a real worker thread by the runtime's generic entry. */
import { join } from 'node:path';
import { ActorSystem } from '../../src/runtime/system';
import { SystemClock } from '../../src/runtime/clock';
import { actorModule } from '../../src/runtime/types';

const logic = actorModule<typeof import('../../src/actors/parser/actor')>(join(__dirname, '..', '..', 'src', 'actors', 'parser', 'actor.js')).logic('createParserHandlers');
const NOW = Date.UTC(2027, 0, 1, 10, 0);

describe('parser worker thread', () => {
  let system: ActorSystem;
  beforeEach(() => {
    system = new ActorSystem({ clock: new SystemClock(), askTimeoutMs: 60_000 });
  });
  afterEach(() => system.stop());

  it('parses, computes fires and keeps serving after bad input', async () => {
    const parser = system.spawn({ name: 'parser', logic, placement: 'thread' });
    const s = await parser.ask('parse', { text: 'every day at 02:30', tz: 'America/New_York', now: NOW });
    expect(s).toMatchObject({ kind: 'cron', expr: '0 30 2 * * *', tz: 'America/New_York' });
    await expect(parser.ask('parse', { text: '61 * * * *', now: NOW }))
      .rejects.toMatchObject({ code: 'VALIDATION', field: 'schedule' });
    await expect(parser.ask('parse', { text: '@daily', tz: 'Mars/Olympus', now: NOW }))
      .rejects.toMatchObject({ code: 'VALIDATION', field: 'timezone' });
    // The spring-forward day: 02:30 does not exist, the job runs at 03:30 EDT (07:30Z).
    const fires = await parser.ask('next', { schedule: s, after: Date.UTC(2027, 2, 13, 12), count: 2 });
    expect(fires).toEqual([Date.UTC(2027, 2, 14, 7, 30), Date.UTC(2027, 2, 15, 6, 30)]);
    expect(parser.stats()).toMatchObject({ alive: true, restarts: 0 });
  });
});
