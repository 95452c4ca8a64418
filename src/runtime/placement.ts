/**
 * Spawning an actor where configuration says, from its module logic: in a worker thread
 * (`placement: 'thread'`, the generic entry loads the module there) or on the main thread (the
 * same module `require`d here). Either way the actor's handlers pass through the
 * {@link CrashInjector} (on the main thread here; in a worker, the generic entry's own injector).
 */
import type { CrashInjector } from './crash-injection';
import { loadFactory } from './incarnation';
import type { ActorSystem, LogicSpawnSpec } from './system';
import type { ActorContext, ActorFactory, ActorRef, Handlers, HandlersOf } from './types';

/** Spawns `spec` at its placement, crash injection wired. */
export function spawnPlaced<F extends ActorFactory<never, Handlers, never>>(
  system: ActorSystem, crashes: CrashInjector, spec: LogicSpawnSpec<F>,
): ActorRef<HandlersOf<F>> {
  if (spec.placement === 'thread') return system.spawn(spec);
  const { logic, placement: _placement, resourceLimits: _limits, standby: _standby, ...common } = spec;
  const factory = loadFactory(spec.name, logic);
  return system.spawn<HandlersOf<F>>({
    ...common,
    init: common.init,
    peers: common.peers as object | (() => object) | undefined,
    factory: async (init: never, ctx: ActorContext<never>) => crashes.wrap(spec.name, await factory(init, ctx as ActorContext) as HandlersOf<F>),
  });
}
