/**
 * Launching a ping: from a template in two clicks, or written here (kind, question, options for a
 * poll, how long it stays open). After a launch the form keeps what was launched, to run it again.
 */

import { h, setText, show } from '../lib/dom.js';
import { lasting } from '../lib/storage.js';
import { DEFAULT_QUESTION, KINDS, KIND_HINT, kindText } from '../shared/ping-kinds.js';
import { BUILT_IN, createRecentPings, templateText } from './ping-templates.js';

const OWN = 'own'; // the template value for "write your own"

/** elements: {form, template, edit (details), kind, kindHint, question, optionsField, options, seconds} */
export function createPingLauncher(elements, { call, notices, onLaunched }) {
  const recent = createRecentPings(lasting);
  let lastDefault = '';

  elements.kind.replaceChildren(...KINDS.map((kind) => h('option', { value: kind, text: kindText(kind) })));

  function templates() {
    return [...BUILT_IN, ...recent.list()];
  }

  function renderTemplates() {
    const chosen = elements.template.value || BUILT_IN[0].id;
    const mine = recent.list();
    elements.template.replaceChildren(
      h('optgroup', { label: 'Ready-made' }, BUILT_IN.map((t) => h('option', { value: t.id, text: templateText(t) }))),
      mine.length ? h('optgroup', { label: 'Launched before' }, mine.map((t) => h('option', { value: t.id, text: templateText(t) }))) : null,
      h('option', { value: OWN, text: 'Write your own…' }),
    );
    elements.template.value = templates().some((t) => t.id === chosen) || chosen === OWN ? chosen : BUILT_IN[0].id;
  }

  function onKind() {
    const kind = elements.kind.value;
    show(elements.optionsField, kind === 'poll');
    setText(elements.kindHint, KIND_HINT[kind] ?? '');
    // Offer the kind's usual question unless the instructor wrote their own.
    if (elements.question.value === '' || elements.question.value === lastDefault) {
      elements.question.value = DEFAULT_QUESTION[kind] ?? '';
      lastDefault = elements.question.value;
    }
  }

  function onTemplate() {
    const template = templates().find((t) => t.id === elements.template.value);
    if (!template) {
      elements.edit.open = true;
      elements.question.focus();
      return;
    }
    elements.kind.value = template.kind;
    elements.question.value = template.question;
    lastDefault = template.question;
    elements.options.value = (template.options ?? []).join('\n');
    onKind();
  }

  renderTemplates();
  elements.kind.addEventListener('change', onKind);
  elements.template.addEventListener('change', onTemplate);
  // Editing a field by hand makes it "your own" ping.
  for (const field of [elements.kind, elements.question, elements.options]) {
    field.addEventListener('input', () => {
      elements.template.value = OWN;
    });
  }
  onTemplate();

  elements.form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const kind = elements.kind.value;
    // An attention check, a pulse or a rating have a usual prompt: an empty question takes it.
    const question = elements.question.value.trim() || DEFAULT_QUESTION[kind] || '';
    if (!question) {
      notices.error('Write the question first.', 'Could not launch');
      elements.edit.open = true;
      elements.question.focus();
      return;
    }
    const payload = { kind, question };
    if (kind === 'poll') {
      const options = elements.options.value.split('\n').map((line) => line.trim()).filter(Boolean);
      if (options.length < 2) {
        notices.error('A poll needs at least two options, one per line.', 'Could not launch');
        elements.edit.open = true;
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
    notices.announce(`Launched: ${question}`);
    // The form keeps the question and the options, so the same ping can run again.
    elements.question.value = question;
    recent.add(payload);
    const keep = elements.template.value;
    renderTemplates();
    elements.template.value = keep;
  });
}
