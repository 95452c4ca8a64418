/** HTTP status of an error answer, by error code (one table for the server and the docs). */
import type { ErrorCode } from '../errors';

/** HTTP status of an error response, by error code. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'VALIDATION':
      return 400;
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'CONFLICT':
      return 409;
    case 'QUEUE_FULL':
    case 'MAILBOX_FULL':
    case 'SHUTDOWN':
    case 'DAEMON_UNAVAILABLE':
      return 503;
    default:
      return 500;
  }
}
