/** Who this page is for: the session id from the path and the token from the URL fragment. */

import { perTab } from './storage.js';

/** The session id: the last segment of the path (/join/SID, /dashboard/SID, /support/SID). */
export function sessionIdFromPath(pathname = window.location.pathname) {
  const parts = pathname.split('/').filter(Boolean);
  return parts.length > 1 ? decodeURIComponent(parts[parts.length - 1]) : '';
}

/**
 * The token from `#token=...`. It is remembered for this tab, so a reload works. Staff pages are often
 * screen-shared, so they take the token out of the address bar (`hideFromAddressBar`).
 */
export function takeToken(sessionId, { hideFromAddressBar = false } = {}) {
  const key = `companion:token:${sessionId}`;
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const fromUrl = params.get('token');
  if (fromUrl) {
    perTab.set(key, fromUrl);
    if (hideFromAddressBar) {
      window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
    }
    return fromUrl;
  }
  return perTab.get(key);
}
