/** Running the session: Start, Delay (minutes and reason) and Close. */

import { show } from '../lib/dom.js';

/**
 * elements: {root, start, delaySection?, delayForm, delayMinutes, delayReason, close}
 * onSession(session): hands an ack's session to the dispatcher, the same path as the `session` event.
 */
export function createSessionControls(elements, { call, notices, onSession }) {
  async function run(button, event, payload, what, done) {
    button.disabled = true;
    const ack = await call(event, payload);
    button.disabled = false;
    if (notices.failed(ack, what)) return;
    if (ack.session) onSession(ack.session);
    notices.announce(done);
  }

  elements.start.addEventListener('click', () => {
    run(elements.start, 'session:start', {}, 'Could not start the session', 'The session is live.');
  });

  elements.delayForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const minutes = Number(elements.delayMinutes.value);
    if (!Number.isInteger(minutes) || minutes < 1) {
      notices.error('Delay: enter a whole number of minutes (1 or more).', 'Could not delay the start');
      elements.delayMinutes.focus();
      return;
    }
    const payload = { minutes };
    const reason = elements.delayReason.value.trim();
    if (reason) payload.reason = reason;
    const button = elements.delayForm.querySelector('button[type="submit"]');
    run(button, 'session:delay', payload, 'Could not delay the start', `Start delayed by ${minutes} min.`);
    elements.delayReason.value = '';
    if (elements.delaySection) elements.delaySection.open = false;
  });

  elements.close.addEventListener('click', () => {
    // Closing ends check-in, pings and the help queue for everyone: ask once more.
    if (!window.confirm('Close the session for everyone? Attendance is then final.')) return;
    run(elements.close, 'session:close', {}, 'Could not close the session', 'The session is closed.');
  });

  return {
    render(session, { canConduct }) {
      const status = session?.status;
      show(elements.root, canConduct && status !== 'closed');
      // Once live there is nothing to start: the button goes rather than sitting there disabled.
      show(elements.start, status === 'scheduled');
      show(elements.delaySection ?? elements.delayForm, canConduct && status === 'scheduled');
      elements.close.disabled = status === 'closed';
    },
  };
}
