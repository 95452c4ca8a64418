/**
 * The control API's wire protocol as the CLI's client needs it. The routes, their schemas and the
 * OpenAPI document live in src/http/ (routes.ts, schemas.ts, openapi.ts).
 */
export { httpStatusOf } from '../http/status';

/** Routes are versioned: the Unix socket, TCP and the dashboard share one `/v1` API. */
export const API_PREFIX = '/v1';

/** Largest page the API serves; the client pages through longer lists with `after`. */
export const MAX_PAGE = 1000;
