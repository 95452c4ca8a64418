// The dashboard's link to the daemon: the session (login code → HttpOnly cookie + CSRF token),
// JSON calls to /v1 (writes carry X-CSRF-Token), paging, and the live event stream (SSE).

let csrf = null;
let readOnly = false;

/** An API error with the daemon's `{"error": {code, message}}`. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = error?.code ?? 'INTERNAL';
  }
}

/**
 * Opens the session: trades a one-time code from the URL fragment (`#code=...`, never sent to the
 * server in a URL, never in a Referer) for the session cookie, or picks up the cookie's session.
 * Resolves with `{ ok, readOnly }`.
 */
export async function openSession() {
  const m = /(?:^#|&)code=([^&]+)/.exec(location.hash);
  if (m) {
    history.replaceState(null, '', location.pathname + location.search);
    const res = await fetch('/v1/session', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: m[1] }),
    });
    if (res.ok) {
      const s = await res.json();
      csrf = s.csrfToken;
      readOnly = s.readOnly;
      return { ok: true, readOnly };
    }
  }
  const res = await fetch('/v1/session', { credentials: 'same-origin' });
  if (!res.ok) return { ok: false, readOnly: false };
  const s = await res.json();
  csrf = s.csrfToken;
  readOnly = s.readOnly;
  return { ok: true, readOnly };
}

/** Calls the API; resolves with the parsed JSON (and the response, for headers). */
export async function call(method, path, body) {
  const headers = {};
  if (method !== 'GET') headers['x-csrf-token'] = csrf ?? '';
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch('/v1' + path, {
    method, credentials: 'same-origin', headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text === '' ? null : (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
  // The session ended (expired, idle too long, revoked, logged out elsewhere): the page shows the login.
  if (res.status === 401) window.dispatchEvent(new Event('rae-logged-out'));
  if (!res.ok) throw new ApiError(res.status, json?.error);
  return { json, res };
}

export const get = async (path) => (await call('GET', path)).json;
export const post = async (path, body) => (await call('POST', path, body)).json;
export const del = async (path) => (await call('DELETE', path)).json;

/** One page of jobs: `{ items, next, total }`. */
export async function jobPage({ q = '', state = '', after = null, limit = 500 } = {}) {
  const params = new URLSearchParams({ limit: String(limit) });
  if (q) params.set('q', q);
  if (state) params.set('state', state);
  if (after) params.set('after', after);
  const { json, res } = await call('GET', `/jobs?${params}`);
  const link = res.headers.get('link') ?? '';
  const next = /[?&]after=([^&>]+)/.exec(link);
  const total = res.headers.get('x-total-count');
  // Unfiltered pages carry no total (it would cost the daemon a full read): known once the last page is in.
  return { items: json, next: next ? decodeURIComponent(next[1]) : null, total: total === null ? null : Number(total) };
}

/**
 * The live event stream. EventSource reconnects by itself and sends Last-Event-ID, so nothing is
 * missed across a short disconnect; `onGap` is called when the daemon no longer has what was missed.
 */
export function liveEvents({ onEvent, onGap, onState }) {
  const es = new EventSource('/v1/events', { withCredentials: true });
  es.onopen = () => onState(true);
  es.onerror = () => onState(false);
  es.onmessage = (m) => onEvent(JSON.parse(m.data));
  es.addEventListener('gap', () => onGap());
  return () => es.close();
}

/** Ends the session (the cookie is cleared by the daemon's answer). */
export async function logout() {
  await fetch('/v1/session', { method: 'DELETE', credentials: 'same-origin' });
  csrf = null;
}

export const enc = encodeURIComponent;
