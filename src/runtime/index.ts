/** The actor runtime: actors, mailboxes, ask/tell, event bus, supervision, thread hosting (generic entry, peer refs over MessagePorts), clock. */
export * from './types';
export { EventBus } from './event-bus';
export { backoffDelay, backoffOptions, NO_BACKOFF, type BackoffOptions } from './backoff';
export {
  Supervisor, type Child, type ChildSpec, type ExitReason, type Intensity, type RestartType,
  type Strategy, type SupervisorEvent, type SupervisorOptions,
} from './supervisor';
export { ActorSystem, type ActorSystemOptions, type LogicSpawnSpec, type SpawnCommon, type SpawnSpec } from './system';
export * from './clock';
