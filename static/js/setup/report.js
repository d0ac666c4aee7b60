/**
 * Sending the result to support: a help ticket (`help:open` with `pre_class: true`, contract part 2)
 * whose category is the first check with a problem and whose text lists every check, then the place in
 * the queue as it moves (`help:ticket`).
 */

import { h, setText, show } from '../lib/dom.js';
import { RESULTS } from './check-view.js';

const TEXT_MAX = 2000; // help:open's text limit
// A help category for each check (the companion tab's categories where one fits).
const CATEGORY = { browser: 'browser', microphone: 'microphone', camera: 'camera', speakers: 'speakers', network: 'connection' };

/** {category, text} for help:open from the checks ({key: view}) and the person's own words. */
export function ticketOf(checks, note) {
  const entries = Object.entries(checks);
  const worst = entries.find(([, v]) => v.result === 'problem') ?? entries.find(([, v]) => v.result === 'warn');
  const lines = entries.map(([, v]) => `• ${v.line}`);
  const head = `Setup check:\n${lines.join('\n')}`;
  const own = note.trim();
  const text = own ? `${own}\n\n${head}` : head;
  return { category: worst ? CATEGORY[worst[0]] : 'setup check', text: text.slice(0, TEXT_MAX) };
}

function ticketWords(ticket, live) {
  switch (ticket.state) {
    case 'waiting':
      return `Sent to support${live ? '' : ' before the class'}. You are number ${ticket.position ?? '?'} in line: keep this page open, or go to the class page, where the answer shows too.`;
    case 'claimed':
      return 'Support is looking at your request now.';
    case 'resolved':
      return ticket.note ? `Support answered: ${ticket.note}` : 'Support marked your request as solved.';
    case 'unresolved':
      return 'The class ended before support could answer your request.';
    case 'withdrawn':
      return 'You withdrew your request.';
    default:
      return '';
  }
}

/**
 * elements: {summary, status, form, text, button, note}; checks: {key: check view};
 * help: help-state.js; state: session-state.js.
 */
export function createReport(elements, { call, notices, checks, help, state }) {
  const items = Object.fromEntries(Object.entries(checks).map(([key, v]) => {
    const item = h('li', { class: 'send-item' }, [h('span', { class: 'send-label', text: `${v.label}: ` }), h('span', { class: 'send-result' })]);
    elements.summary.append(item);
    return [key, item];
  }));

  function renderSummary() {
    for (const [key, v] of Object.entries(checks)) {
      items[key].dataset.result = v.result;
      setText(items[key].lastElementChild, RESULTS[v.result]);
    }
  }

  function render() {
    renderSummary();
    const status = state.status;
    const over = status === 'closed' || status === 'cancelled';
    const ticket = help.ticket;
    show(elements.status, Boolean(ticket));
    if (ticket) {
      elements.status.dataset.state = ticket.state;
      setText(elements.status, ticketWords(ticket, status === 'live'));
    }
    // While a request is open (one each) or once the class is over, there is nothing to send.
    show(elements.form, !over && !help.isOpen);
    elements.button.disabled = false;
    let note = '';
    if (over) note = `The class has ${status === 'cancelled' ? 'been cancelled' : 'ended'}: support takes no more requests for it.`;
    else if (help.isOpen) note = 'Once support has answered, you can send a new result from here.';
    else if (status === 'live') note = 'The class has started: your request goes to support like any other help request.';
    setText(elements.note, note);
  }

  elements.form.addEventListener('submit', async (event) => {
    event.preventDefault();
    elements.button.disabled = true;
    const { category, text } = ticketOf(checks, elements.text.value);
    const ack = await call('help:open', { category, text, pre_class: true });
    if (ack.ok) {
      help.opened(ack);
      elements.text.value = '';
      notices.announce(`Sent to support. You are number ${ack.position ?? '?'} in line.`);
    } else if (ack.error?.code === 'conflict' && (ack.ticket || ack.ticket_id)) {
      help.apply(ack.ticket ?? { ticket_id: ack.ticket_id, state: 'waiting', position: null });
      notices.announce('You already have an open help request.');
    } else {
      notices.failed(ack, 'Could not send to support');
    }
    render();
    if (help.ticket) elements.status.focus();
  });

  return { render };
}
