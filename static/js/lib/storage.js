/**
 * localStorage and sessionStorage that never throw: storage can be switched off
 * (private windows, policies) or full, and the page must keep working without it.
 */

function wrap(getStore) {
  const store = () => {
    try {
      return getStore();
    } catch (err) {
      // Reading window.localStorage itself throws when storage is blocked.
      console.warn('companion: storage unavailable', err);
      return null;
    }
  };
  return {
    get(key) {
      try {
        return store()?.getItem(key) ?? null;
      } catch (err) {
        console.warn('companion: storage read failed', err);
        return null;
      }
    },
    set(key, value) {
      try {
        store()?.setItem(key, value);
        return true;
      } catch (err) {
        console.warn('companion: storage write failed', err);
        return false;
      }
    },
    remove(key) {
      try {
        store()?.removeItem(key);
      } catch (err) {
        console.warn('companion: storage remove failed', err);
      }
    },
    getJson(key, fallback) {
      const raw = this.get(key);
      if (raw === null) return fallback;
      try {
        return JSON.parse(raw);
      } catch (err) {
        console.warn('companion: stored value is not JSON; ignoring it', key, err);
        return fallback;
      }
    },
    setJson(key, value) {
      return this.set(key, JSON.stringify(value));
    },
  };
}

/** Kept across tabs and restarts. */
export const lasting = wrap(() => window.localStorage);
/** Kept for this tab only. */
export const perTab = wrap(() => window.sessionStorage);

/** A short, stable, non-secret tag for a token (FNV-1a), so storage keys never hold the token. */
export function tagOf(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36);
}
