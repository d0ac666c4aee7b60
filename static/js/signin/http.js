/**
 * JSON calls to the server with the staff session cookie. Calls that change something carry the
 * session's CSRF token (from GET /api/me) in the X-CSRF-Token header.
 */

let csrfToken = '';

/** Remember the CSRF token of the signed-in session. */
export function useCsrfToken(token) {
  csrfToken = token || '';
}

/**
 * An error from the server, with its HTTP status and error code; `details` is the whole error object
 * of the answer ({code, message, ...}): a 409 lists its conflicts and problems, a roster file's 400 every bad row.
 */
export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/**
 * Call the API: `body` goes as JSON, or `bytes` (a file's) with `contentType`, or `form` (FormData, a
 * file upload); `bearer`: a page's token
 * instead of the session cookie. Answers the JSON body
 * (null for 204); throws ApiError with the server's message when refused.
 */
export async function call(method, path, body, { bytes, contentType, bearer, form } = {}) {
  const headers = { Accept: 'application/json' };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let payload;
  if (form !== undefined) {
    payload = form; // FormData: the browser writes the multipart Content-Type with its boundary
  } else if (bytes !== undefined) {
    headers['Content-Type'] = contentType;
    payload = bytes;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const response = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
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
    const message = error.message || `HTTP ${response.status}`;
    throw new ApiError(response.status, error.code || 'unavailable', message, error);
  }
  return data;
}

/** Who is signed in, or null (and the CSRF token is remembered for later calls). */
export async function whoAmI() {
  try {
    const me = await call('GET', '/api/me');
    useCsrfToken(me.csrf_token);
    return me;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

/**
 * Where to go after signing in: ?next= when it names a page of this site, else the staff home.
 * The URL parser decides, not a prefix test: it drops tabs and newlines and reads a backslash as a
 * slash, so `/%09/evil.example` or `/\\evil.example` would otherwise lead to another site.
 */
export function nextPath(search = window.location.search, origin = window.location.origin) {
  const next = new URLSearchParams(search).get('next') || '';
  if (!next.startsWith('/')) return '/home';
  let url;
  try {
    url = new URL(next, origin);
  } catch (err) {
    console.warn('companion: ?next= is not a URL', err);
    return '/home';
  }
  return url.origin === origin ? url.pathname + url.search + url.hash : '/home';
}
