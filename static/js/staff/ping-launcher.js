/** Launching a ping of any kind: question, options for a poll, how long it stays open. */

import { show } from '../lib/dom.js';

const DEFAULT_QUESTION = {
  poll: '',
  pulse: 'Are you following so far?',
  rating: 'How clear was this part?',
  text: '',
  attention: 'Still with us? Tap “I’m here”.',
};

/** elements: {form, kind, question, optionsField, options, seconds} */
export function createPingLauncher(elements, { call, notices, onLaunched }) {
  let lastDefault = '';

  function onKind() {
    const kind = elements.kind.value;
    show(elements.optionsField, kind === 'poll');
    // Offer the kind's usual question unless the instructor wrote their own.
    if (elements.question.value === '' || elements.question.value === lastDefault) {
      elements.question.value = DEFAULT_QUESTION[kind] ?? '';
      lastDefault = elements.question.value;
    }
  }
  elements.kind.addEventListener('change', onKind);
  onKind();

  elements.form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const kind = elements.kind.value;
    const question = elements.question.value.trim();
    if (!question) {
      notices.error('Write the question first.', 'Could not launch');
      elements.question.focus();
      return;
    }
    const payload = { kind, question };
    if (kind === 'poll') {
      const options = elements.options.value.split('\n').map((line) => line.trim()).filter(Boolean);
      if (options.length < 2) {
        notices.error('A poll needs at least two options, one per line.', 'Could not launch');
        elements.options.focus();
        return;
      }
      payload.options = options;
    }
    const seconds = Number(elements.seconds.value);
    if (elements.seconds.value !== '' && Number.isInteger(seconds) && seconds > 0) payload.seconds = seconds;

    const button = elements.form.querySelector('button[type="submit"]');
    button.disabled = true;
    const ack = await call('ping:launch', payload);
    button.disabled = false;
    if (notices.failed(ack, 'Could not launch')) return;
    onLaunched({
      ping_id: ack.ping_id, kind, question, options: payload.options ?? null,
      closes_at: ack.closes_at ?? null, answered: 0, total: null, tally: null, closed: false,
    });
    notices.announce('Launched. Results appear below as answers come in.');
    elements.question.value = '';
    lastDefault = '';
    onKind();
  });
}
