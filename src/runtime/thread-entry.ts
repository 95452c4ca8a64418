/**
 * The ONE worker entry of every thread actor. It loads the actor's factory from `workerData`
 * (module path + export name, see {@link ThreadBoot}), runs it with the spec's `init` and refs to
 * its peers (one MessagePort each), answers `ready`, then serves the host channel one message at a
 * time. No actor needs an entry file of its own: placement is a configuration value.
 *
 * Keep this module light: every actor thread loads it.
 * @internal
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { ActorStoppedError, ValidationError } from '../errors';
import { checkHandlers, crashPolicy, handlerOf, loadFactory } from './incarnation';
import { STOP_HANDLER, type Handlers } from './types';
import { PortPeerRef, settled, toWireError, type HostReply, type HostRequest, type ThreadBoot, type WireResult } from './wire';

function main(): void {
  const port = parentPort;
  if (port === null) throw new ValidationError('thread-entry must run in a worker thread', 'parentPort');
  const boot = workerData as ThreadBoot;
  const isCrash = crashPolicy(boot.onUnexpectedError);
  const peers: Record<string, PortPeerRef<Handlers>> = {};
  for (const [name, p] of Object.entries(boot.peers)) {
    peers[name] = new PortPeerRef(name, p as MessagePort, () => new ActorStoppedError(`actor '${boot.name}': peer '${name}' is gone (channel closed)`));
  }
  let handlers: Handlers | null = null;
  const reply = (r: HostReply): void => {
    try {
      port.postMessage(r);
    } catch (err) {
      // The value is not structured-clonable: the call fails instead of hanging.
      const result: WireResult = { ok: false, error: toWireError(err), crash: false };
      port.postMessage(r.kind === 'ready' ? { kind: 'ready', result } : { kind: 'reply', id: r.id, result });
    }
  };
  port.on('message', (m: HostRequest) => {
    if (m.kind === 'invoke') {
      void settled(() => {
        if (handlers === null) throw new ValidationError(`actor '${boot.name}' is not initialised`, 'init');
        return handlerOf(boot.name, handlers, m.message.type)(m.message.payload);
      }, isCrash).then((result) => reply({ kind: 'reply', id: m.id, result }));
    } else {
      void settled(() => (handlers?.[STOP_HANDLER] as (() => unknown) | undefined)?.call(handlers), () => false)
        .then((result) => reply({ kind: 'reply', id: m.id, result }));
    }
  });
  void settled(async () => {
    handlers = checkHandlers(boot.name, await loadFactory(boot.name, boot)(boot.init, { name: boot.name, peers }));
  }, () => false).then((result) => reply({ kind: 'ready', result }));
}

main();
