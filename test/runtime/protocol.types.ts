/**
 * Type-level tests of the typed actor protocol, checked by `tsc` in `npm run build` (nothing here
 * runs: jest only picks up *.test.js). Each `@ts-expect-error` line MUST be a compile error — if a
 * change made it compile, tsc fails the build with "Unused '@ts-expect-error' directive".
 */
import type { QueueHandlers } from '../../src/actors/queue/actor';
import type { ActorSystem } from '../../src/runtime/system';
import { actorModule, type ActorContext, type ActorRef, type MessageOf, type PeerRef } from '../../src/runtime/types';
import type { CounterProtocol } from './fixtures/counter-actor';
import type { ParserHandlers } from '../../src/actors/parser/actor';

declare const system: ActorSystem;
const counter = actorModule<typeof import('./fixtures/counter-actor')>('/abs/counter-actor.js').logic('createCounter');

// @ts-expect-error -- the export name is checked against the module's type
actorModule<typeof import('./fixtures/counter-actor')>('/abs/counter-actor.js').logic('createCountr');

export async function mainSide(): Promise<void> {
  // The ref's protocol is inferred from the factory: no type argument, same for both placements.
  const onThread = system.spawn({ name: 't', logic: counter, placement: 'thread', init: { start: 1 } });
  const onMain: ActorRef<CounterProtocol> = system.spawn({ name: 'm', logic: counter, init: { start: 1 } });
  const total: number = await onThread.ask('add', { n: 1 });
  void total;
  // @ts-expect-error -- wrong payload type
  void onThread.ask('add', { n: 'one' });
  // @ts-expect-error -- missing payload field
  void onMain.ask('add', {});
  // @ts-expect-error -- unknown message type
  void onThread.ask('multiply', { n: 2 });
  // @ts-expect-error -- the reply type is kept across the thread hop: a number, not a string
  const s: string = await onThread.ask('total', undefined);
  void s;
  // @ts-expect-error -- `$stop` is reserved for the runtime, no message type
  void onMain.ask('$stop', undefined);
  // @ts-expect-error -- `$crashed` is reserved too (the queue actor has one), no message type
  void ({} as ActorRef<QueueHandlers>).ask('$crashed', undefined);
  // @ts-expect-error -- tell is typed too
  onThread.tell('tellVia', { peer: 'up', n: 1 });
  // @ts-expect-error -- init is checked against the factory's parameter
  system.spawn({ name: 'x', logic: counter, placement: 'thread', init: { begin: 1 } });
  // @ts-expect-error -- placement is 'main' | 'thread'
  system.spawn({ name: 'y', logic: counter, placement: 'gpu', init: { start: 1 } });
  const parser = {} as ActorRef<ParserHandlers>;
  // @ts-expect-error -- peers are checked: a parser ref is no counter ref
  system.spawn({ name: 'z', logic: counter, placement: 'thread', init: { start: 1 }, peers: { left: parser } });
  system.spawn({ name: 'w', logic: counter, placement: 'thread', init: { start: 1 }, peers: { left: onMain, right: onThread } });
}

/** Inside an actor (any placement): peer refs are typed by the peer's protocol. */
export function threadSide(ctx: ActorContext<{ store: PeerRef<CounterProtocol> }>): void {
  void ctx.peers.store.ask('add', { n: 1 }, { timeoutMs: 100 });
  // @ts-expect-error -- wrong payload, on a peer ref held inside a thread
  void ctx.peers.store.ask('add', { n: true });
  // @ts-expect-error -- no such peer
  void ctx.peers.queue;
}

/** The protocol as a discriminated union of messages. */
export function union(m: MessageOf<CounterProtocol>): number | undefined {
  switch (m.type) {
    case 'add':
      return m.payload.n;
    case 'addVia':
      // @ts-expect-error -- narrowed: addVia's payload has no `then`
      return m.payload.then;
    default:
      return undefined;
  }
}
