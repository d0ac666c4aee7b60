/**
 * The help queue: each request with how long it has waited, Claim and Resolve (with a note). A request
 * opened before the class went live is marked "Before class": a setup problem, not one mid-lecture.
 */

import { h, reorder, setText, show } from '../lib/dom.js';
import { duration, parseTime } from '../lib/format.js';
import { topicOf } from '../shared/help-topics.js';

/** elements: {waitingList, claimedList, waitingEmpty, claimedEmpty, summary} */
export function createQueueView(elements, { call, notices, clock, queue, canAct }) {
  const cards = new Map(); // ticket_id -> card parts

  async function act(button, event, payload, what, done) {
    button.disabled = true;
    const ack = await call(event, payload);
    button.disabled = false;
    if (!notices.failed(ack, what)) notices.announce(done);
  }

  function build(ticket) {
    const titleId = `ticket-${ticket.ticket_id}-who`;
    const noteId = `ticket-${ticket.ticket_id}-note`;
    const card = {
      who: h('h3', { id: titleId, class: 'ticket-who' }),
      preClass: h('p', { class: 'ticket-tag', text: 'Before class' }),
      category: h('p', { class: 'ticket-category' }),
      text: h('p', { class: 'ticket-text' }),
      state: h('p', { class: 'ticket-state' }),
      waited: h('p', { class: 'ticket-waited' }),
      claim: h('button', { type: 'button', class: 'button button-primary', text: 'Claim' }),
      note: h('input', { type: 'text', id: noteId, maxlength: 2000, autocomplete: 'off' }),
      resolveForm: null,
    };
    card.claim.addEventListener('click', () => {
      act(card.claim, 'help:claim', { ticket_id: ticket.ticket_id }, 'Could not claim', `Claimed the request of ${ticket.name}.`);
    });
    const resolveButton = h('button', { type: 'submit', class: 'button', text: 'Resolve' });
    card.resolveForm = h('form', {
      class: 'ticket-resolve',
      onsubmit: (event) => {
        event.preventDefault();
        const payload = { ticket_id: ticket.ticket_id };
        const note = card.note.value.trim();
        if (note) payload.note = note;
        act(resolveButton, 'help:resolve', payload, 'Could not resolve', `Resolved the request of ${ticket.name}.`);
      },
    }, [h('label', { for: noteId, text: 'Note (optional)' }), card.note, resolveButton]);
    card.actions = h('div', { class: 'ticket-actions' }, [card.claim, card.resolveForm]);
    card.node = h('li', { class: 'card ticket-card' }, [
      h('article', { 'aria-labelledby': titleId }, [card.who, card.preClass, card.category, card.text, card.state, card.waited, card.actions]),
    ]);
    return card;
  }

  function update(card, ticket) {
    setText(card.who, ticket.name || 'Participant');
    setText(card.category, topicOf(ticket.category)?.label ?? ticket.category);
    setText(card.text, ticket.text || '(no description)');
    card.text.dataset.empty = String(!ticket.text);
    card.node.dataset.state = ticket.state;
    show(card.preClass, Boolean(ticket.pre_class));
    setText(card.state, ticket.state === 'claimed'
      ? `Claimed by ${ticket.claimed_by || 'someone'}`
      : `Number ${ticket.position ?? '?'} in line`);
    show(card.actions, canAct());
    show(card.claim, ticket.state === 'waiting');
  }

  function renderList(list, tickets, empty) {
    const nodes = tickets.map((ticket) => {
      let card = cards.get(ticket.ticket_id);
      if (!card) {
        card = build(ticket);
        cards.set(ticket.ticket_id, card);
      }
      update(card, ticket);
      return card.node;
    });
    reorder(list, nodes);
    show(empty, nodes.length === 0);
  }

  function render() {
    const waiting = queue.waiting();
    const claimed = queue.claimed();
    renderList(elements.waitingList, waiting, elements.waitingEmpty);
    renderList(elements.claimedList, claimed, elements.claimedEmpty);
    const open = new Set([...waiting, ...claimed].map((t) => t.ticket_id));
    for (const id of cards.keys()) if (!open.has(id)) cards.delete(id);
    tick();
  }

  function tick() {
    const now = clock.now();
    for (const [ticketId, card] of cards) {
      const ticket = queue.get(ticketId);
      const created = parseTime(ticket?.created_at);
      const claimedAt = parseTime(ticket?.claimed_at);
      if (ticket?.state === 'claimed' && claimedAt !== null) {
        // Claimed: how long it has been in progress, and how long it waited before that.
        const waited = created === null ? '' : ` (waited ${duration(claimedAt - created)})`;
        setText(card.waited, `In progress for ${duration(now - claimedAt)}${waited}`);
      } else {
        setText(card.waited, created === null ? '' : `Waiting for ${duration(now - created)}`);
      }
    }
    const waiting = queue.waiting().length;
    const claimed = queue.claimed().length;
    const medianMs = queue.medianWaitMs(now);
    const parts = [`${waiting} waiting`, `${claimed} in progress`];
    if (medianMs !== null) parts.push(`median wait ${duration(medianMs)}`);
    setText(elements.summary, parts.join(' · '));
  }

  return { render, tick };
}
