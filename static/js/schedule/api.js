/**
 * The scheduling calls, through signin/http.js's `call` (the staff session cookie and its CSRF token,
 * the whole error body kept on a refusal as `details`).
 */

import { call } from '../signin/http.js';

/** Call the API: `json` goes as JSON, or `bytes` with `contentType` (the CSV roster). */
export function send(method, path, { json, bytes, contentType, form } = {}) {
  return call(method, path, json, { bytes, contentType, form });
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
