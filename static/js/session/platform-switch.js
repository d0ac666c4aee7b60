/** The staff switch for the video platform's status: ok, degraded or down, with a message. */

import { hasFocusWithin } from '../lib/dom.js';

/** form: has radios named "status", an input named "message" and a submit button. */
export function createPlatformSwitch(form, { call, notices }) {
  const statusInputs = [...form.querySelectorAll('input[name="status"]')];
  const message = form.elements.namedItem('message');
  const submit = form.querySelector('button[type="submit"]');

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = statusInputs.find((input) => input.checked);
    if (!chosen) return;
    submit.disabled = true;
    const ack = await call('platform:status', { status: chosen.value, message: message.value.trim() });
    submit.disabled = false;
    if (!notices.failed(ack, 'Could not update the platform status')) {
      notices.announce(`Platform status set to ${chosen.value}.`);
    }
  });

  return {
    /** Show the current status unless someone is editing the form right now. */
    render(platform) {
      if (hasFocusWithin(form)) return;
      for (const input of statusInputs) input.checked = input.value === platform.status;
      message.value = platform.message || '';
    },
    setEnabled(enabled) {
      for (const control of form.elements) control.disabled = !enabled;
    },
  };
}
