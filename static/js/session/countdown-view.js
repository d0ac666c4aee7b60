/**
 * The countdown to the expected start on the server's clock; then how long the session has been live.
 * Announces (politely) a start, a delay and the end, never the ticking itself.
 */

import { setText, show } from '../lib/dom.js';
import { clockTime, countdown, minutes, parseTime, startsIn } from '../lib/format.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The moment the session is expected to start (after any delay). */
export function expectedStart(session) {
  return parseTime(session?.expected_start) ?? parseTime(session?.starts_at);
}

/** elements: {label, value, note}; clock: from clock.js; notices: to announce changes. */
export function createCountdownView(elements, { clock, notices }) {
  let session = null;
  let seen = null; // what was last announced, so only changes are

  function announceChanges() {
    const now = { status: session.status, delay: session.delay_minutes || 0, reason: session.delay_reason || '' };
    if (seen !== null) {
      if (seen.status !== now.status && now.status === 'live') notices.announce('The session has started.');
      if (seen.status !== now.status && now.status === 'closed') notices.announce('The session has ended.');
      if (now.status === 'scheduled' && (seen.delay !== now.delay || seen.reason !== now.reason)) {
        const target = expectedStart(session);
        notices.announce(`The start is delayed to ${clockTime(target)}${now.reason ? `: ${now.reason}` : ''}.`);
      }
    }
    seen = now;
  }

  function delayNote() {
    const delay = session.delay_minutes || 0;
    if (!delay && !session.delay_reason) return '';
    const by = delay ? `Delayed by ${minutes(delay)}` : 'Delayed';
    return session.delay_reason ? `${by}: ${session.delay_reason}` : by;
  }

  function tick() {
    if (!session) return;
    const now = clock.now();
    elements.value.dataset.state = session.status;
    if (session.status === 'scheduled') {
      const target = expectedStart(session);
      const left = target === null ? null : target - now;
      elements.value.dataset.far = String(left !== null && left >= DAY_MS);
      if (left !== null && left >= DAY_MS) {
        // More than a day away, a running "175:43:31" means nothing: say the day.
        setText(elements.label, 'Starts');
        setText(elements.value, startsIn(target, now));
      } else if (left !== null && left > 0) {
        setText(elements.label, 'Starts in');
        setText(elements.value, countdown(left));
      } else {
        setText(elements.label, 'Starting');
        setText(elements.value, 'any moment now');
      }
      const at = target === null ? '' : `Expected start ${clockTime(target)}`;
      setText(elements.note, [at, delayNote()].filter(Boolean).join(' · '));
    } else if (session.status === 'live') {
      elements.value.dataset.far = 'false';
      const started = parseTime(session.started_at);
      setText(elements.label, 'Live for');
      setText(elements.value, started === null ? '—' : countdown(now - started));
      setText(elements.note, started === null ? '' : `Started at ${clockTime(started)}`);
    } else {
      elements.value.dataset.far = 'false';
      const closed = parseTime(session.closed_at);
      setText(elements.label, 'Session');
      setText(elements.value, 'ended');
      setText(elements.note, closed === null ? '' : `Ended at ${clockTime(closed)}`);
    }
    elements.note.dataset.delayed = String(session.status === 'scheduled' && delayNote() !== '');
    show(elements.note, elements.note.textContent !== '');
  }

  return {
    render(next) {
      if (!next) return;
      session = next;
      announceChanges();
      tick();
    },
    tick,
  };
}
