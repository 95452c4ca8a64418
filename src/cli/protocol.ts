/**
 * The control API's wire protocol as the CLI's client needs it. The routes, their schemas and the
 * OpenAPI document live in src/http/ (routes.ts, schemas.ts, openapi.ts).
 */
export { httpStatusOf } from '../http/status';
// Its own tiny module: the CLI's client needs the prefix without loading zod (~50-250 ms per command).
export { API_PREFIX } from './api-path';
