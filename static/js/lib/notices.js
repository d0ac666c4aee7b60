/**
 * What the page tells people: calm announcements for screen readers (polite) and visible error
 * messages (assertive) that stay long enough to read and can be dismissed.
 */

import { h } from './dom.js';

const ERROR_LINGER_MS = 12_000; // long enough to read twice mid-lecture
const ANNOUNCE_LINGER_MS = 8_000; // screen readers have read it by then
const MAX_VISIBLE_ERRORS = 3; // older ones go: a burst of failures must not fill the screen

/** The error of a failed ack in words. */
export function describeError(ack) {
  return ack?.error?.message || ack?.error?.code || 'unknown error';
}

export function createNotices({ politeRegion, errorRegion }) {
  function announce(text) {
    const item = h('p', { text });
    politeRegion.append(item);
    setTimeout(() => item.remove(), ANNOUNCE_LINGER_MS);
  }

  /** Show an error; `about` names what failed, so a later success can take the error away. */
  function error(text, about = null) {
    const item = h('div', { class: 'notice notice-error' });
    if (about) item.dataset.about = about;
    const dismiss = h('button', {
      type: 'button',
      class: 'notice-dismiss',
      'aria-label': 'Dismiss message',
      onclick: () => item.remove(),
    }, ['×']);
    item.append(h('p', { text }), dismiss);
    errorRegion.append(item);
    while (errorRegion.children.length > MAX_VISIBLE_ERRORS) errorRegion.firstElementChild.remove();
    setTimeout(() => item.remove(), ERROR_LINGER_MS);
  }

  /** Take away the errors about `what` (it has just worked). */
  function clear(what) {
    for (const item of [...errorRegion.children]) if (item.dataset.about === what) item.remove();
  }

  /**
   * Show the error of a failed ack ("What failed: why") and say whether it failed. A success clears
   * earlier errors about the same thing, so a fixed mistake does not stay on screen.
   */
  function failed(ack, what) {
    if (ack && ack.ok) {
      clear(what);
      return false;
    }
    clear(what);
    error(`${what}: ${describeError(ack)}`, what);
    return true;
  }

  return { announce, error, failed, clear };
}
