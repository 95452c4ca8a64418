/** Worker-thread entry of the persistence actor: the store's handlers, hosted by the runtime. */
import { exposeActor } from '../runtime/thread-actor';
import { createPersistenceHandlers } from '../actors/persistence/actor';

exposeActor(createPersistenceHandlers);
