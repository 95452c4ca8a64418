/**
 * One error hierarchy for the whole scheduler. Every error has a stable `code` that callers and tests
 * match on (never the message text), and errors that cross a thread boundary are serialised with
 * their code (`src/runtime/wire.ts`: code, name, message, field and the cause chain).
 */

/** Stable error codes. */
export type ErrorCode =
  | 'VALIDATION'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'EXECUTION'
  | 'PERSISTENCE'
  | 'QUEUE_FULL'
  | 'MAILBOX_FULL'
  | 'ASK_TIMEOUT'
  | 'ACTOR_DEAD'
  | 'ACTOR_STOPPED'
  | 'SHUTDOWN'
  | 'DAEMON_UNAVAILABLE'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'INTERNAL';

/** Base class of every error the scheduler throws on purpose. */
export class SchedulerError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
  /** Plain-object form that survives structured clone / JSON. */
  toJSON(): SerializedError {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/** Bad input: a schedule, a spec field, a CLI argument. `field` names what is wrong. */
export class ValidationError extends SchedulerError {
  readonly field: string | undefined;
  constructor(message: string, field?: string, options?: { cause?: unknown }) {
    super('VALIDATION', message, options);
    this.field = field;
  }
  override toJSON(): SerializedError {
    return { ...super.toJSON(), field: this.field };
  }
}
/** A job, run or other named thing does not exist. */
export class NotFoundError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NOT_FOUND', message, options);
  }
}
/** The request conflicts with current state (e.g. a job name already taken). */
export class ConflictError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFLICT', message, options);
  }
}
/**
 * A run could not be started or executed. Never thrown by the scheduler itself: a run that fails,
 * even one that cannot start, is data (a Run with its status and error). Kept because the public
 * contract (CONTRACT.md, "Errors") names it; code `EXECUTION` still round-trips across threads.
 * @deprecated match a Run's `status` instead.
 */
export class ExecutionError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EXECUTION', message, options);
  }
}
/** The store failed (open, read, write, restore). */
export class PersistenceError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PERSISTENCE', message, options);
  }
}
/** The ready queue is at its bound (`maxQueuedJobs`). */
export class QueueFullError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('QUEUE_FULL', message, options);
  }
}
/** An actor's mailbox is at its bound; the message was refused (and counted). */
export class MailboxFullError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MAILBOX_FULL', message, options);
  }
}
/** An `ask` got no reply within its timeout. */
export class AskTimeoutError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ASK_TIMEOUT', message, options);
  }
}
/** The actor (or the worker thread hosting it) died with the call in flight. */
export class ActorDeadError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ACTOR_DEAD', message, options);
  }
}
/** The actor has been stopped and takes no more messages. */
export class ActorStoppedError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ACTOR_STOPPED', message, options);
  }
}
/** The scheduler is shutting down. */
export class ShutdownError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SHUTDOWN', message, options);
  }
}
/** The CLI could not reach a daemon that it needs (e.g. `events`). */
export class DaemonUnavailableError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DAEMON_UNAVAILABLE', message, options);
  }
}

/** An HTTP API request without valid credentials (no token, a bad or revoked one). */
export class UnauthorizedError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNAUTHORIZED', message, options);
  }
}
/** Credentials that do not allow the request (a read-only token on a write route, a missing CSRF token). */
export class ForbiddenError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FORBIDDEN', message, options);
  }
}

/** Wire form of an error. */
export interface SerializedError {
  name: string;
  code: ErrorCode;
  message: string;
  field?: string | undefined;
}

/** Turns any thrown value into its wire form, keeping the code of a SchedulerError. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof SchedulerError) return err.toJSON();
  if (err instanceof Error) return { name: err.name, code: 'INTERNAL', message: err.message };
  return { name: 'Error', code: 'INTERNAL', message: String(err) };
}

const byCode: Record<ErrorCode, (m: string, s: SerializedError) => SchedulerError> = {
  VALIDATION: (m, s) => new ValidationError(m, s.field),
  NOT_FOUND: (m) => new NotFoundError(m),
  CONFLICT: (m) => new ConflictError(m),
  EXECUTION: (m) => new ExecutionError(m),
  PERSISTENCE: (m) => new PersistenceError(m),
  QUEUE_FULL: (m) => new QueueFullError(m),
  MAILBOX_FULL: (m) => new MailboxFullError(m),
  ASK_TIMEOUT: (m) => new AskTimeoutError(m),
  ACTOR_DEAD: (m) => new ActorDeadError(m),
  ACTOR_STOPPED: (m) => new ActorStoppedError(m),
  SHUTDOWN: (m) => new ShutdownError(m),
  DAEMON_UNAVAILABLE: (m) => new DaemonUnavailableError(m),
  UNAUTHORIZED: (m) => new UnauthorizedError(m),
  FORBIDDEN: (m) => new ForbiddenError(m),
  INTERNAL: (m) => new SchedulerError('INTERNAL', m),
};

/** Rebuilds a typed error from its wire form. */
export function deserializeError(s: SerializedError): SchedulerError {
  const make = byCode[s.code] ?? byCode.INTERNAL;
  return make(s.message, s);
}

/** True when `v` looks like a SerializedError (used where messages enter from threads or sockets). */
export function isSerializedError(v: unknown): v is SerializedError {
  return typeof v === 'object' && v !== null && typeof (v as SerializedError).code === 'string' &&
    typeof (v as SerializedError).message === 'string';
}
