/** The open pings as answerable cards; an answer can be changed until the ping closes. */

import { h, reorder, setText, show } from '../lib/dom.js';
import { countdown, parseTime } from '../lib/format.js';
import { KIND_TEXT, answerChoices, answerText } from '../shared/ping-kinds.js';

const TEXT_ANSWER_MAX = 2000;

/** elements: {list, empty} */
export function createPingCards(elements, { call, notices, clock, pings }) {
  const cards = new Map(); // ping_id -> {node, buttons, timer, status, textInput}
  let firstRender = true;

  async function answer(pingId, value, card) {
    card.node.setAttribute('aria-busy', 'true');
    const ack = await call('ping:answer', { ping_id: pingId, answer: value });
    card.node.removeAttribute('aria-busy');
    if (notices.failed(ack, 'Answer not sent')) return;
    pings.answered(pingId, value);
    notices.announce('Answer sent.');
    render();
  }

  function buildCard(ping) {
    const titleId = `ping-${ping.ping_id}-q`;
    const card = { node: null, buttons: [], timer: h('p', { class: 'ping-timer' }), status: h('p', { class: 'ping-answer' }) };
    const controls = h('div', { class: `ping-controls ping-controls-${ping.kind}`, role: 'group', 'aria-labelledby': titleId });
    if (ping.kind === 'text') {
      const inputId = `ping-${ping.ping_id}-text`;
      card.textInput = h('textarea', { id: inputId, rows: 2, maxlength: TEXT_ANSWER_MAX });
      const form = h('form', {
        class: 'ping-text-form',
        onsubmit: (event) => {
          event.preventDefault();
          const text = card.textInput.value.trim();
          if (text) answer(ping.ping_id, text, card);
        },
      }, [
        h('label', { for: inputId, text: 'Your answer' }),
        card.textInput,
        h('button', { type: 'submit', class: 'button', text: 'Send answer' }),
      ]);
      controls.append(form);
    } else {
      for (const [value, label] of answerChoices(ping)) {
        const button = h('button', {
          type: 'button',
          class: 'button button-choice',
          'aria-pressed': 'false',
          text: label,
          onclick: () => answer(ping.ping_id, value, card),
        });
        if (ping.kind === 'rating') button.setAttribute('aria-label', `${label} out of 5`);
        card.buttons.push({ button, value });
        controls.append(button);
      }
    }
    card.node = h('article', { class: 'card ping-card', 'aria-labelledby': titleId }, [
      h('p', { class: 'ping-kind', text: KIND_TEXT[ping.kind] ?? ping.kind }),
      h('h3', { id: titleId, class: 'ping-question', text: ping.question }),
      ping.kind === 'rating' ? h('p', { class: 'hint', text: '1 = low, 5 = high' }) : null,
      controls,
      card.status,
      card.timer,
    ]);
    return card;
  }

  function updateCard(card, ping) {
    for (const { button, value } of card.buttons) {
      button.setAttribute('aria-pressed', String(ping.my_answer === value));
    }
    const answered = ping.my_answer !== null && ping.my_answer !== undefined;
    show(card.status, answered);
    setText(card.status, answered ? `Your answer: ${answerText(ping, ping.my_answer)} (you can still change it)` : '');
    if (card.textInput && answered && card.textInput.value === '' && document.activeElement !== card.textInput) {
      card.textInput.value = String(ping.my_answer);
    }
  }

  function render() {
    const list = pings.list();
    const nodes = list.map((ping) => {
      let card = cards.get(ping.ping_id);
      if (!card) {
        card = buildCard(ping);
        cards.set(ping.ping_id, card);
        if (!firstRender) notices.announce(`New ${(KIND_TEXT[ping.kind] ?? 'question').toLowerCase()}: ${ping.question}`);
      }
      updateCard(card, ping);
      return card.node;
    });
    const open = new Set(list.map((ping) => ping.ping_id));
    for (const id of cards.keys()) if (!open.has(id)) cards.delete(id);
    reorder(elements.list, nodes);
    show(elements.empty, nodes.length === 0);
    firstRender = false;
    tick();
  }

  function tick() {
    const now = clock.now();
    for (const [pingId, card] of cards) {
      const closes = parseTime(pings.get(pingId)?.closes_at);
      if (closes === null) continue;
      const left = closes - now;
      setText(card.timer, left > 0 ? `Closes in ${countdown(left)}` : 'Closing…');
    }
  }

  return { render, tick };
}
