/**
 * The ONE worker entry of every thread actor. It loads the actor's factory named in `workerData`
 * (module path + export name, see {@link ThreadBoot}) and says `loaded`; on `start` it runs the
 * factory with the spec's `init` and refs to its peers (one MessagePort each), says `ready`, then
 * serves the host channel (each `invoke` as it arrives: the main-side mailbox decides how many are
 * in flight, the actor's `concurrency`). No actor needs an entry file of its own:
 * placement is a configuration value. Loading before `start` lets the runtime keep a standby
 * worker with the module already loaded, so a restart skips the boot.
 *
 * Keep this module light: every actor thread loads it.
 * @internal
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { ActorStoppedError, ValidationError } from '../errors';
import { SystemClock, settle, type Clock } from './clock';
import { runInjected } from './crash-injection';
import { checkHandlers, crashPolicy, handlerOf, loadFactory } from './incarnation';
import { PortClock } from './thread-clock';
import { STOP_HANDLER, type ActorFactory, type Handlers } from './types';
import { PortPeerRef, Traffic, settled, toWireError, type HostReply, type HostRequest, type ThreadBoot, type TrafficCount, type WireResult } from './wire';

function main(): void {
  const port = parentPort;
  if (port === null) throw new ValidationError('thread-entry must run in a worker thread', 'parentPort');
  const boot = workerData as ThreadBoot;
  const isCrash = crashPolicy(boot.onUnexpectedError);
  let factory: ActorFactory<unknown> | null = null;
  let handlers: Handlers | null = null;
  // Messages on the side channels (peers, clock), for the system's quiescence.
  const traffic = new Traffic();
  const reply = (r: HostReply): void => {
    try {
      port.postMessage(r);
    } catch (err) {
      // The value is not structured-clonable: the call fails instead of hanging.
      const result: WireResult = { ok: false, error: toWireError(err), crash: false };
      if (r.kind === 'reply') port.postMessage({ kind: 'reply', id: r.id, result });
      else if (r.kind === 'loaded' || r.kind === 'ready') port.postMessage({ kind: r.kind, result });
      // Unclonable facts are not published (the readers keep the last ones).
    }
  };
  const start = (m: Extract<HostRequest, { kind: 'start' }>): void => {
    const peers: Record<string, PortPeerRef<Handlers>> = {};
    for (const [name, p] of Object.entries(m.peers)) {
      peers[name] = new PortPeerRef(name, p as MessagePort, () => new ActorStoppedError(`actor '${boot.name}': peer '${name}' is gone (channel closed)`), traffic);
    }
    const clock: Clock = m.clock === null ? new SystemClock() : new PortClock(m.clock, traffic, () => reply({ kind: 'clockUsed' }));
    const publish = (value: unknown): void => reply({ kind: 'facts', value });
    void settled(async () => {
      if (factory === null) throw new ValidationError(`actor '${boot.name}': module not loaded`, 'logic');
      handlers = checkHandlers(boot.name, await factory(m.init, { name: boot.name, peers, clock, publish }));
    }, () => false).then((result) => reply({ kind: 'ready', result }));
  };
  port.on('message', (m: HostRequest) => {
    if (m.kind === 'start') {
      start(m);
    } else if (m.kind === 'invoke') {
      void settled(() => {
        if (handlers === null) throw new ValidationError(`actor '${boot.name}' is not initialised`, 'init');
        const handler = handlerOf(boot.name, handlers, m.message.type);
        // An injected fault (the system's CrashInjector decided it on the main side) hits here,
        // where the handler runs: a hang is this worker really stuck on the message.
        return runInjected(m.fault, () => handler(m.message.payload));
      }, isCrash).then((result) => reply({ kind: 'reply', id: m.id, result }));
    } else if (m.kind === 'quiet') {
      // Let what the last messages started run, then say what went over the side channels.
      void settled(async () => {
        await settle();
        return { sent: traffic.sent, received: traffic.received } satisfies TrafficCount;
      }, () => false).then((result) => reply({ kind: 'reply', id: m.id, result }));
    } else {
      void settled(() => (handlers?.[STOP_HANDLER] as (() => unknown) | undefined)?.call(handlers), () => false)
        .then((result) => reply({ kind: 'reply', id: m.id, result }));
    }
  });
  void settled(() => { factory = loadFactory(boot.name, boot); }, () => false).then((result) => reply({ kind: 'loaded', result }));
}

main();
