/**
 * The current check-in code, big enough to read on a shared screen, and when it changes. Before
 * check-in opens (30 minutes before the expected start) the code is not shown, only when it opens:
 * a code on a shared screen before then only invites "not open yet" refusals.
 */

import { setText, show } from '../lib/dom.js';
import { clockTime, countdown, parseTime } from '../lib/format.js';
import { expectedStart } from '../session/countdown-view.js';

// After the code expires, wait this long for a `presence` event with the new code before asking.
const REFRESH_GRACE_MS = 1500;
export const CHECKIN_OPENS_BEFORE_MS = 30 * 60 * 1000; // the server opens check-in 30 minutes before the start

/** When check-in opens for this session (epoch ms), or null when unknown. */
export function checkinOpensAt(session) {
  const start = expectedStart(session);
  return start === null ? null : start - CHECKIN_OPENS_BEFORE_MS;
}

/** Whether check-in is not open yet at `now`. */
export function checkinNotOpenYet(session, now) {
  if (!session || session.status !== 'scheduled') return false;
  const opens = checkinOpensAt(session);
  return opens !== null && now < opens;
}

/** elements: {section, code, expires, opens}; onExpired(): fetch a fresh snapshot when no new code came. */
export function createCheckinCodeView(elements, { clock, roster, session, onExpired }) {
  let askedFor = null; // the expiry we already asked a refresh for

  function render() {
    tick();
  }

  function tick() {
    const { code, expiresAt } = roster.checkin;
    const current = session();
    const notYet = checkinNotOpenYet(current, clock.now());
    const open = Boolean(code) && !notYet && current?.status !== 'closed';
    show(elements.section, open);
    setText(elements.code, open ? code : '');
    show(elements.opens, Boolean(code) && notYet);
    if (notYet) setText(elements.opens, `Check-in opens at ${clockTime(checkinOpensAt(current))}; the code shows here then.`);
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
