import { exposeActor } from '../runtime/thread-actor';
import { createParserHandlers } from '../actors/parser/actor';
exposeActor(createParserHandlers);
