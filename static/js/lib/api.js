/**
 * The HTTP API with the page's bearer token, or with the staff session cookie when there is no token
 * (downloads go through fetch, since the header is needed).
 */

import { h } from './dom.js';
import { call, whoAmI } from '../signin/http.js';

export function createApi({ token }) {
  async function request(path, accept) {
    const headers = { Accept: accept };
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(path, { headers, cache: 'no-store', credentials: 'same-origin' });
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try {
        const body = await response.json();
        message = body?.error?.message || message;
      } catch (err) {
        console.warn('companion: error answer is not JSON', err);
      }
      throw new Error(message);
    }
    return response;
  }

  let signedIn = null; // with the cookie, a change needs the session's CSRF token: read once from /api/me

  return {
    /**
     * Call the API with a JSON body (signin/http.js's call): answers the JSON, throws its ApiError
     * (status, code and the whole error object as `details`) when refused.
     */
    async send(method, path, body, { form } = {}) {
      if (token) return call(method, path, body, { bearer: token, form });
      if (method !== 'GET') {
        signedIn ||= whoAmI().catch((err) => {
          signedIn = null;
          throw err;
        });
        await signedIn;
      }
      return call(method, path, body, { form });
    },
    /** GET a JSON document; throws an Error with the server's message on failure. */
    async getJson(path) {
      return (await request(path, 'application/json')).json();
    },
    /** GET a file and hand it to the browser as a download named `filename`. */
    async download(path, filename, accept = '*/*') {
      const blob = await (await request(path, accept)).blob();
      saveBlob(blob, filename);
    },
  };
}

/** Offer a Blob as a download. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: filename, class: 'visually-hidden' });
  document.body.append(link);
  link.click();
  link.remove();
  // Revoke later: some browsers start reading the blob after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

/** The API path of a session resource. */
export function sessionPath(sessionId, rest = '') {
  return `/api/sessions/${encodeURIComponent(sessionId)}${rest}`;
}
