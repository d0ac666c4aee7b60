/**
 * One feedback form, drawn from `GET /api/feedback/{token}` and answered with `POST /api/feedback/{token}`:
 * the mail link's page (static/feedback.html) and the participant's tab both use it. Big touch targets
 * (a phone beside the call); every control has a visible label; the result of saving is announced.
 */

import { h } from '../lib/dom.js';

const STAMP = new Intl.DateTimeFormat(undefined, { dateStyle: 'long', timeStyle: 'short' });

/** The token of a personal link (`…/feedback/{token}`). */
export function tokenOf(link) {
  return decodeURIComponent(new URL(link, window.location.href).pathname.split('/').pop() || '');
}

/** The form behind a token, or null with the reason when the link is not valid. */
export async function loadForm(token) {
  const r = await fetch(`/api/feedback/${encodeURIComponent(token)}`, { headers: { Accept: 'application/json' } });
  if (!r.ok) return { view: null, status: r.status };
  return { view: await r.json(), status: r.status };
}

function thanks(view) {
  const until = view.open_until ? STAMP.format(new Date(view.open_until)) : '';
  return until ? `Thanks — you can change your answers until ${until}.` : 'Thanks — your answers are saved.';
}

function choices(q, name, type, values, labels, given, idPrefix) {
  const picked = Array.isArray(given) ? given : given === undefined || given === null ? [] : [given];
  return h('div', { class: `fb-choices fb-choices-${q.kind}` }, values.map((value, i) => {
    const id = `${idPrefix}-${i}`;
    const input = h('input', {
      type, id, name, value: String(value), checked: picked.includes(value),
      required: type === 'radio' && q.required && i === 0,
    });
    return h('label', { class: 'fb-choice', for: id }, [input, h('span', { text: labels[i] })]);
  }));
}

function questionNode(q, given, idPrefix) {
  const name = `${idPrefix}-${q.id}`;
  const legendText = `${q.text}${q.required ? ' (required)' : ''}`;
  if (q.kind === 'text') {
    const id = `${name}-text`;
    return h('div', { class: 'fb-question fb-question-text' }, [
      h('label', { for: id, class: 'fb-legend', text: legendText }),
      h('textarea', { id, name, maxlength: '2000', rows: '4', required: q.required, text: given ?? '' }),
    ]);
  }
  let control;
  if (q.kind === 'rating') {
    const values = [1, 2, 3, 4, 5];
    control = choices(q, name, 'radio', values, values.map(String), given, name);
  } else if (q.kind === 'yesno') {
    control = choices(q, name, 'radio', [true, false], ['Yes', 'No'], given, name);
  } else {
    control = choices(q, name, q.kind === 'multi' ? 'checkbox' : 'radio', q.options, q.options, given, name);
  }
  const hint = q.kind === 'rating' ? h('span', { class: 'fb-hint', text: '1 = poor, 5 = excellent' })
    : q.kind === 'multi' ? h('span', { class: 'fb-hint', text: 'Choose any' }) : null;
  return h('fieldset', { class: `fb-question fb-question-${q.kind}` }, [
    h('legend', { class: 'fb-legend' }, [legendText, hint ? ' ' : null, hint]), control,
  ]);
}

/** The answers as the form holds them now, in the API's shape. */
function collect(form, questions, idPrefix) {
  const data = new FormData(form);
  const answers = {};
  for (const q of questions) {
    const name = `${idPrefix}-${q.id}`;
    if (q.kind === 'multi') {
      answers[q.id] = data.getAll(name);
    } else if (q.kind === 'text') {
      const text = String(data.get(name) ?? '').trim();
      if (text) answers[q.id] = text;
    } else if (data.has(name)) {
      const raw = String(data.get(name));
      answers[q.id] = q.kind === 'rating' ? Number(raw) : q.kind === 'yesno' ? raw === 'true' : raw;
    }
  }
  return answers;
}

/**
 * The form element for `view` (the answer of GET /api/feedback/{token}). idPrefix keeps ids apart when two
 * forms share a page. onSaved(view) after each save.
 */
export function formView(view, token, { idPrefix = 'fb', onSaved = () => {} } = {}) {
  const status = h('p', { class: 'fb-status', role: 'status' });
  const questions = view.form.questions;
  const given = view.answers ?? {};
  const button = h('button', {
    type: 'submit', class: 'button button-primary fb-send', text: view.answers ? 'Update my answers' : 'Send my feedback',
  });
  const fields = h('fieldset', { class: 'fb-fields', disabled: !view.open }, [
    h('legend', { class: 'visually-hidden', text: 'Questions' }),
    ...questions.map((q) => questionNode(q, given[q.id], idPrefix)),
    button,
  ]);
  const notes = [];
  if (view.form.anonymous) notes.push(h('p', { class: 'fb-note', text: 'Your answers are anonymous: they are never shown with your name.' }));
  if (!view.open) {
    notes.push(h('p', { class: 'fb-note fb-closed', text: view.session.status === 'closed'
      ? 'This form is closed: answers are no longer taken.'
      : 'The form opens when the session ends.' }));
  }
  if (view.answers) status.textContent = thanks(view);
  const form = h('form', { class: 'fb-form', novalidate: false }, [...notes, fields, status]);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    status.textContent = 'Saving…';
    try {
      const r = await fetch(`/api/feedback/${encodeURIComponent(token)}`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ answers: collect(form, questions, idPrefix) }),
      });
      if (!r.ok) {
        const body = await r.json().catch(() => ({}));
        status.textContent = `Not saved: ${body?.error?.message ?? `the server answered ${r.status}`}. Please try again.`;
        return;
      }
      view.answers = collect(form, questions, idPrefix);
      button.textContent = 'Update my answers';
      status.textContent = thanks(view);
      onSaved(view);
    } catch {
      status.textContent = 'Not saved: the connection failed. Please try again.';
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
