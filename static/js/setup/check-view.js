/**
 * One check of the setup page as people see it: a status (not checked, checking, working, worth a look,
 * problem), a sentence of detail, and what to do about it. The section's `data-result` carries the state
 * for the stylesheet and the tests; `summary` is the line that goes to support.
 */

import { h, setText, show } from '../lib/dom.js';

export const RESULTS = Object.freeze({
  idle: 'Not checked yet',
  running: 'Checking…',
  asking: 'Your answer, please',
  ok: 'Working',
  warn: 'Worth a look',
  problem: 'Problem',
});

/** section: the check's <section> (with .check-status, .check-detail, .check-advice); label: its name in the report. */
export function createCheckView(section, { label, onChange = () => {} }) {
  const status = section.querySelector('.check-status');
  const detail = section.querySelector('.check-detail');
  const advice = section.querySelector('.check-advice');
  const view = {
    label,
    result: 'idle',
    summary: '',

    /** Show a state: `text` says what was found, `steps` what to do (shown for warn and problem only). */
    set(result, text = '', steps = []) {
      view.result = result;
      view.summary = text;
      section.dataset.result = result;
      setText(status, RESULTS[result]);
      setText(detail, text);
      const shown = result === 'warn' || result === 'problem' ? steps : [];
      advice.replaceChildren(...shown.map((step) => h('li', { text: step })));
      show(advice, shown.length > 0);
      onChange(view);
    },

    /** "Microphone: Problem – no sound reached the browser" for the report to support. */
    get line() {
      return `${label}: ${RESULTS[view.result]}${view.summary ? ` – ${view.summary}` : ''}`;
    },
  };
  return view;
}
