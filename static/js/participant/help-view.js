/**
 * Asking for help: pick a category, read the self-help steps for it, then file a request and watch
 * the place in the queue live.
 */

import { h, setText, show } from '../lib/dom.js';
import { HELP_TOPICS, topicOf } from '../shared/help-topics.js';

/**
 * elements: {start, chooser, categories, steps, stepsList, form, text, cancel, status, statusText,
 *            note (the support note once resolved), withdraw (button)}
 * (the category radios are built here from HELP_TOPICS).
 */
export function createHelpView(elements, { call, notices, help, isClosed }) {
  let choosing = false;
  let announced = null; // the last state/position announced

  const radios = HELP_TOPICS.map((topic) => {
    const id = `help-cat-${topic.category.replace(/\W+/g, '-')}`;
    const input = h('input', { type: 'radio', name: 'category', id, value: topic.category });
    input.addEventListener('change', showSteps);
    elements.categories.append(h('div', { class: 'choice' }, [input, h('label', { for: id, text: topic.label })]));
    return input;
  });

  function chosen() {
    return radios.find((input) => input.checked)?.value ?? null;
  }

  function showSteps() {
    const topic = topicOf(chosen());
    show(elements.steps, topic !== null);
    show(elements.form, topic !== null);
    if (topic) elements.stepsList.replaceChildren(...topic.steps.map((step) => h('li', { text: step })));
  }

  elements.start.addEventListener('click', () => {
    choosing = true;
    render();
    radios[0].focus();
  });

  elements.cancel.addEventListener('click', () => {
    choosing = false;
    render();
    elements.start.focus();
  });

  // Found the answer, or gave up: the request leaves the queue and a new one can be opened.
  elements.withdraw.addEventListener('click', async () => {
    const ticket = help.ticket;
    if (!ticket || !help.isOpen) return;
    elements.withdraw.disabled = true;
    const ack = await call('help:withdraw', { ticket_id: ticket.ticket_id });
    elements.withdraw.disabled = false;
    if (notices.failed(ack, 'Could not withdraw your request')) return;
    help.withdrawn(ticket.ticket_id);
    render();
    elements.start.focus();
  });

  elements.form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const category = chosen();
    if (!category) return;
    const submit = elements.form.querySelector('button[type="submit"]');
    submit.disabled = true;
    const ack = await call('help:open', { category, text: elements.text.value.trim() });
    submit.disabled = false;
    if (ack.ok) {
      help.opened(ack);
    } else if (ack.error?.code === 'conflict' && (ack.ticket || ack.ticket_id)) {
      // I already have an open request: show that one instead.
      help.apply(ack.ticket ?? { ticket_id: ack.ticket_id, state: 'waiting', position: null });
      notices.announce('You already have an open help request.');
    } else {
      notices.failed(ack, 'Could not send your help request');
      return;
    }
    choosing = false;
    elements.text.value = '';
    render();
    elements.statusText.focus();
  });

  function statusText(ticket) {
    switch (ticket.state) {
      case 'waiting':
        return ticket.position
          ? `Your request is in the queue: you are number ${ticket.position}. Keep this tab open.`
          : 'Your request is in the queue. Keep this tab open.';
      case 'claimed':
        return 'Someone from support is working on your request. Watch the chat and the video platform.';
      case 'resolved':
        return 'Your last request was marked resolved. Still stuck? Ask again.';
      case 'unresolved':
        return 'Your last request was closed without a fix. Still stuck? Ask again, or write in the chat.';
      case 'withdrawn':
        return 'You withdrew your request. Need help after all? Ask again.';
      default:
        return `Your request: ${ticket.state}.`;
    }
  }

  function render() {
    const ticket = help.ticket;
    const open = help.isOpen;
    const closed = isClosed();
    show(elements.status, ticket !== null);
    if (ticket) {
      elements.status.dataset.state = ticket.state;
      const text = statusText(ticket);
      setText(elements.statusText, text);
      const note = ticket.state === 'resolved' && ticket.note ? `Support: ${ticket.note}` : '';
      setText(elements.note, note);
      show(elements.note, note !== '');
      const key = `${ticket.ticket_id}:${ticket.state}:${ticket.position}`;
      if (announced !== null && announced !== key) notices.announce(note ? `${text} ${note}` : text);
      announced = key;
    }
    show(elements.withdraw, open && !closed);
    show(elements.start, !open && !choosing && !closed);
    show(elements.chooser, !open && choosing && !closed);
    if (choosing) showSteps();
  }

  return { render };
}
