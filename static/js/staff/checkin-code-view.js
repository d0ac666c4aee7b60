/** The current check-in code, big enough to read on a shared screen, and when it changes. */

import { setText, show } from '../lib/dom.js';
import { countdown, parseTime } from '../lib/format.js';

// After the code expires, wait this long for a `presence` event with the new code before asking.
const REFRESH_GRACE_MS = 1500;

/** elements: {section, code, expires}; onExpired(): fetch a fresh snapshot when no new code came. */
export function createCheckinCodeView(elements, { clock, roster, onExpired }) {
  let askedFor = null; // the expiry we already asked a refresh for

  function render() {
    const { code } = roster.checkin;
    show(elements.section, Boolean(code));
    setText(elements.code, code ?? '');
    tick();
  }

  function tick() {
    const { code, expiresAt } = roster.checkin;
    const expires = parseTime(expiresAt);
    if (!code || expires === null) {
      setText(elements.expires, '');
      return;
    }
    const left = expires - clock.now();
    setText(elements.expires, left > 0 ? `Changes in ${countdown(left)}` : 'Changing…');
    if (left < -REFRESH_GRACE_MS && askedFor !== expiresAt) {
      askedFor = expiresAt;
      onExpired();
    }
  }

  return { render, tick };
}
