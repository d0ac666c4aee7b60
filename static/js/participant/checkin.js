/**
 * Check-in: a button (and a code field when the session asks for one) that opens 30 minutes before
 * the expected start, then my status and time.
 */

import { setText, show } from '../lib/dom.js';
import { clockTime, parseTime } from '../lib/format.js';
import { expectedStart } from '../session/countdown-view.js';

const OPENS_BEFORE_START_MS = 30 * 60 * 1000; // the server opens check-in 30 minutes before the start

const STATUS_TEXT = {
  present: 'on time',
  late: 'late',
  excused: 'excused',
  absent: 'not checked in',
};

/** elements: {form, codeField, codeInput, button, opensNote, result} */
export function createCheckin(elements, { call, notices, clock, state }) {
  elements.form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const payload = {};
    if (state.session?.checkin_code_required) {
      const code = elements.codeInput.value.trim();
      if (!code) {
        notices.error('Enter the check-in code shown by your instructor.', 'Could not check in');
        elements.codeInput.focus();
        return;
      }
      payload.code = code;
    }
    elements.button.disabled = true;
    const ack = await call('attendance:checkin', payload);
    elements.button.disabled = false;
    if (notices.failed(ack, 'Could not check in')) {
      if (ack.error?.code === 'invalid' && payload.code) {
        elements.codeInput.select();
        elements.codeInput.focus();
      }
      return;
    }
    state.applyCheckin(ack);
    notices.announce(`Checked in${ack.status === 'late' ? ', marked late' : ''}.`);
    render();
  });

  function opensAt() {
    const start = expectedStart(state.session);
    return start === null ? null : start - OPENS_BEFORE_START_MS;
  }

  function render() {
    const { session, me } = state;
    if (!session || !me) return;
    const checkedAt = parseTime(me.checked_in_at);
    if (checkedAt !== null || me.status === 'excused') {
      show(elements.form, false);
      show(elements.result, true);
      elements.result.dataset.status = me.status;
      const when = checkedAt === null ? '' : ` at ${clockTime(checkedAt)}`;
      setText(elements.result, `Checked in${when}: ${STATUS_TEXT[me.status] ?? me.status}.`);
      if (me.status === 'excused' && checkedAt === null) setText(elements.result, 'You are marked excused.');
      return;
    }
    if (session.status === 'closed') {
      show(elements.form, false);
      show(elements.result, true);
      elements.result.dataset.status = me.status;
      setText(elements.result, `The session has ended. Your attendance: ${STATUS_TEXT[me.status] ?? me.status}.`);
      return;
    }
    show(elements.result, false);
    show(elements.form, true);
    show(elements.codeField, Boolean(session.checkin_code_required));
    tick();
  }

  /** Enable the button once check-in opens (on the server's clock). */
  function tick() {
    if (!state.session || elements.form.hidden) return;
    const opens = opensAt();
    const notYet = state.session.status === 'scheduled' && opens !== null && clock.now() < opens;
    elements.button.disabled = notYet;
    show(elements.opensNote, notYet);
    if (notYet) setText(elements.opensNote, `Check-in opens at ${clockTime(opens)}.`);
  }

  return { render, tick };
}
