/** The chat: a log of messages in seq order, my unsent messages after them, and the Message/Send form. */

import { h, reorder, setText, show } from '../lib/dom.js';
import { clockTime, parseTime } from '../lib/format.js';

const STAFF_ROLE_TEXT = { instructor: 'Instructor', admin: 'Organiser', support: 'Support' };
const STICK_TO_BOTTOM_PX = 48; // "near the bottom": keep following new messages

/**
 * elements: {log, empty, form, input, closedNote}
 * whoAmI(): {name, role} of this page's person, to mark my own messages.
 */
export function createChatView(elements, { chat, outbox, whoAmI, onSend }) {
  const nodes = new Map(); // message id or client_id -> {node, message}

  elements.form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = elements.input.value.trim();
    if (!text) return;
    elements.input.value = '';
    onSend(text);
  });
  // Enter sends, Shift+Enter starts a new line.
  elements.input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      elements.form.requestSubmit();
    }
  });

  function messageNode(message) {
    const me = whoAmI();
    const mine = me && message.author === me.name && message.role === me.role;
    const sent = parseTime(message.sent_at);
    const roleText = STAFF_ROLE_TEXT[message.role];
    return h('li', { class: `chat-message${mine ? ' chat-mine' : ''}${roleText ? ' chat-staff' : ''}` }, [
      h('p', { class: 'chat-meta' }, [
        h('span', { class: 'chat-author', text: message.author || 'Someone' }),
        roleText ? h('span', { class: 'chat-role', text: roleText }) : null,
        sent === null ? null : h('time', { class: 'chat-time', datetime: message.sent_at, text: clockTime(sent) }),
      ]),
      h('p', { class: 'chat-text', text: message.text }),
    ]);
  }

  function pendingNode(item) {
    return h('li', { class: 'chat-message chat-mine chat-pending' }, [
      h('p', { class: 'chat-meta' }, [h('span', { class: 'chat-author', text: 'You' }), h('span', { class: 'chat-role', text: 'sending…' })]),
      h('p', { class: 'chat-text', text: item.text }),
    ]);
  }

  function nodeFor(key, value, build) {
    const known = nodes.get(key);
    if (known && known.value === value) return known.node;
    const node = build(value);
    nodes.set(key, { node, value });
    return node;
  }

  function render() {
    const log = elements.log;
    const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < STICK_TO_BOTTOM_PX;
    const messages = chat.messages();
    const sentIds = new Set(messages.map((m) => m.client_id));
    const pending = outbox.list().filter((item) => !sentIds.has(item.client_id));
    const wanted = [
      ...messages.map((m) => nodeFor(m.id, m, messageNode)),
      ...pending.map((item) => nodeFor(`pending:${item.client_id}`, item, pendingNode)),
    ];
    reorder(log, wanted);
    const live = new Set(wanted);
    for (const [key, entry] of nodes) if (!live.has(entry.node)) nodes.delete(key);
    show(elements.empty, wanted.length === 0);
    if (nearBottom) log.scrollTop = log.scrollHeight;
  }

  return {
    render,
    /** After close the chat is read-only. */
    setClosed(closed) {
      show(elements.closedNote, closed);
      elements.input.disabled = closed;
      elements.form.querySelector('button[type="submit"]').disabled = closed;
      if (closed) setText(elements.closedNote, 'The session has ended; the chat is read-only.');
    },
  };
}
