/**
 * After close, the participant's page ends clearly: thanks, their attendance, and no dead panels
 * (check-in, questions, help and the chat box go; the chat stays to read when there was any).
 */

import { setText, show } from '../lib/dom.js';
import { clockTime, parseTime } from '../lib/format.js';

/** My attendance at the end, in words. */
export function endAttendanceText(me) {
  const at = parseTime(me?.checked_in_at);
  const when = at === null ? '' : ` at ${clockTime(at)}`;
  switch (me?.status) {
    case 'present':
      return `Your attendance: present (checked in${when}).`;
    case 'late':
      return `Your attendance: late (checked in${when}).`;
    case 'excused':
      return 'Your attendance: excused.';
    case 'absent':
      return 'Your attendance: absent (you did not check in). If that is wrong, tell the organiser.';
    default:
      return '';
  }
}

/** elements: {end, attendance, countdown, checkin, pings, help, chat, chatForm, chatLog}; state: session state. */
export function createEndView(elements, { state }) {
  return {
    render() {
      const closed = state.isClosed;
      show(elements.end, closed);
      if (closed) setText(elements.attendance, endAttendanceText(state.me));
      // The status badge says "Ended" and the note when: no giant "ended" beside it.
      show(elements.countdown, !closed);
      show(elements.checkin, !closed);
      show(elements.pings, !closed);
      show(elements.help, !closed);
      show(elements.chatForm, !closed);
      show(elements.chat, !closed || elements.chatLog.children.length > 0);
    },
  };
}
