/**
 * The scheduling calls, with the staff session cookie and its CSRF token. Unlike signin/http.js's
 * `call`, a refusal keeps the whole error body (`details`): a 409 lists the conflicts and problems to
 * show, a roster file's 400 every bad row; and a body may be a file's bytes (the CSV roster).
 */

import { ApiError } from '../signin/http.js';

let csrfToken = '';

/** Remember the CSRF token of the signed-in session (from GET /api/me). */
export function useCsrf(token) {
  csrfToken = token || '';
}

/**
 * Call the API: `json` goes as JSON, or `bytes` with `contentType`. Answers the JSON body (null for
 * 204); throws ApiError with `details`, the error object of the answer ({code, message, ...}).
 */
export async function send(method, path, { json, bytes, contentType } = {}) {
  const headers = { Accept: 'application/json' };
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (bytes !== undefined) {
    headers['Content-Type'] = contentType;
    body = bytes;
  }
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const response = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch (err) {
      console.warn('companion: answer is not JSON', err);
    }
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    const refusal = new ApiError(response.status, error.code || 'unavailable', error.message || `HTTP ${response.status}`);
    refusal.details = error;
    throw refusal;
  }
  return data;
}

/** "/api/sessions/ID" + rest, with `?scope=following` when asked. */
export function sessionUrl(id, rest = '', following = false) {
  return `/api/sessions/${encodeURIComponent(id)}${rest}${following ? '?scope=following' : ''}`;
}

/** Sessions that start in [from, to) (epoch ms), in start order, each with its roster size. */
export async function sessionsBetween(from, to) {
  const q = new URLSearchParams({ from: new Date(from).toISOString(), to: new Date(to).toISOString() });
  return send('GET', `/api/sessions?${q}`);
}
