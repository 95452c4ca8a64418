/** Routes are versioned so a later TCP/REST layer and web UI can reuse them. */
export const API_PREFIX = '/v1';
