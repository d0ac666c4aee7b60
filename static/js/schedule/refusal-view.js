/**
 * Why the server refused a booking or a change, beside the form that asked: a 409 lists each problem
 * (the instructor's other sessions, the platform's capacity or features) and the sessions in the way,
 * then offers to go ahead anyway with a reason, which the caller resends as `override_reason`; any
 * other refusal shows the server's message.
 */

import { h } from '../lib/dom.js';
import { browserZone } from './zones.js';
import { dayTimeIn } from './times.js';

let forms = 0;

/** Empty the place where refusals show. */
export function clearRefusal(box) {
  box.replaceChildren();
  box.hidden = true;
}

/** Say in `box` that something worked (a polite status, not an alert). */
export function showDone(box, text) {
  box.replaceChildren(h('p', { class: 'refusal-done', role: 'status', text }));
  box.dataset.kind = 'done';
  box.hidden = false;
}

/**
 * Show `err` (an ApiError from signin/http.js) in `box`. A conflict also gets a reason field and a
 * button named `overrideLabel` ("Book anyway"): `onOverride(reason)` resends. `onShow(conflict)`, when
 * given, shows a session in the way.
 */
export function showRefusal(box, err, { what = 'Not saved', overrideLabel, onOverride, onShow } = {}) {
  const details = err.details || {};
  const conflict = err.status === 409 && details.code === 'conflict';
  const alert = h('div', { class: 'refusal-message', role: 'alert' });
  const children = [];
  if (conflict) {
    // Each reason in the server's words (its message joins them and adds a note for API callers).
    const problems = details.problems?.length ? details.problems : [{ message: err.message }];
    children.push(h('p', { class: 'refusal-title', text: `${what}:` }));
    children.push(h('ul', { class: 'refusal-problems' }, problems.map((p) => h('li', { text: sentence(p.message) }))));
    const conflicts = details.conflicts || [];
    if (conflicts.length) {
      const zone = browserZone();
      children.push(h('p', { class: 'refusal-sub', text: 'In the way:' }));
      children.push(
        h('ul', { class: 'refusal-conflicts' }, conflicts.map((c) => h('li', {}, [
          h('span', { text: `${c.topic}, ${dayTimeIn(Date.parse(c.starts_at), zone)}` }),
          onShow && h('button', {
            type: 'button',
            class: 'button button-small',
            text: 'Show',
            'aria-label': `Show ${c.topic}`,
            onclick: () => onShow(c),
          }),
        ]))),
      );
    }
  } else {
    children.push(h('p', { class: 'refusal-title', text: `${what}: ${sentence(err.message)}` }));
  }
  alert.append(...children);
  box.replaceChildren(alert);
  box.dataset.kind = 'problem';
  if (conflict && onOverride) box.append(overrideForm(overrideLabel, onOverride));
  box.hidden = false;
}

/** The server's message with a capital letter and a full stop, as a sentence on the page. */
function sentence(text) {
  const t = String(text || '').trim();
  if (!t) return '';
  return `${t[0].toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? '' : '.'}`;
}

function overrideForm(label, onOverride) {
  forms += 1;
  const id = `override-reason-${forms}`;
  const input = h('input', { id, type: 'text', maxlength: 500, required: true, autocomplete: 'off' });
  return h('form', {
    class: 'override-form',
    onsubmit: (event) => {
      event.preventDefault();
      const reason = input.value.trim();
      if (reason) onOverride(reason);
      else input.focus();
    },
  }, [
    h('label', { for: id, text: `Reason for going ahead anyway (kept with the session and in the audit log)` }),
    h('div', { class: 'override-row' }, [input, h('button', { type: 'submit', class: 'button button-danger', text: label })]),
  ]);
}
