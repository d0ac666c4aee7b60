/**
 * Telling support about a new help request: a short beep (WebAudio) and a browser notification,
 * each behind its own switch, remembered in this browser.
 */

import { createBeeper } from '../lib/beep.js';
import { lasting } from '../lib/storage.js';

const SOUND_KEY = 'companion:alerts:sound';
const NOTIFY_KEY = 'companion:alerts:notify';

/** elements: {sound (checkbox), soundNote, notify (checkbox), notifyNote} */
export function createTicketAlerts(elements, { notices }) {
  // Browsers let a page make sound only after a click or key press on it (lib/beep.js waits for the
  // first one); until then a beep is skipped and the hint says why.
  const beeper = createBeeper();
  function unlockAudio() {
    beeper.unlock();
    elements.soundNote.textContent = '';
  }
  // On click, not pointerdown: clearing the hint moves the queue up, and a move between press and
  // release would turn the first click on "Claim" into a click on nothing.
  document.addEventListener('click', unlockAudio, { once: true });
  document.addEventListener('keydown', unlockAudio, { once: true });

  function beep() {
    if (!beeper.beep()) elements.soundNote.textContent = 'Click anywhere on this page once so it may play the sound.';
  }

  const notificationsSupported = 'Notification' in window;

  elements.sound.checked = lasting.get(SOUND_KEY) !== 'off';
  elements.notify.checked = notificationsSupported && lasting.get(NOTIFY_KEY) === 'on'
    && Notification.permission === 'granted';
  if (!notificationsSupported) {
    elements.notify.disabled = true;
    elements.notifyNote.textContent = 'This browser cannot show notifications.';
  }

  elements.sound.addEventListener('change', () => {
    lasting.set(SOUND_KEY, elements.sound.checked ? 'on' : 'off');
    // Switching sound on is a gesture: unlock the audio and play a sample beep.
    if (elements.sound.checked) {
      unlockAudio();
      beep();
    }
  });

  elements.notify.addEventListener('change', async () => {
    if (elements.notify.checked && Notification.permission !== 'granted') {
      const answer = await Notification.requestPermission();
      if (answer !== 'granted') {
        elements.notify.checked = false;
        notices.error('Notifications are blocked for this site; allow them in the browser’s site settings.');
      }
    }
    lasting.set(NOTIFY_KEY, elements.notify.checked ? 'on' : 'off');
  });

  return {
    /** New tickets arrived: beep and notify as switched on, and always announce. */
    alert(tickets) {
      if (tickets.length === 0) return;
      const first = tickets[0];
      const text = tickets.length === 1
        ? `New help request from ${first.name || 'a participant'}: ${first.category}`
        : `${tickets.length} new help requests`;
      notices.announce(text);
      if (elements.sound.checked) beep();
      if (elements.notify.checked && notificationsSupported && Notification.permission === 'granted') {
        const note = new Notification('Companion: new help request', { body: text, tag: `ticket-${first.ticket_id}` });
        note.addEventListener('click', () => {
          window.focus();
          note.close();
        });
      }
    },
  };
}
