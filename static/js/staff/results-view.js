/**
 * Live ping results: the open pings as full cards (chart, how many answered, Close), and the closed
 * ones folded away under "Closed pings", newest first.
 */

import { h, reorder, setText, show } from '../lib/dom.js';
import { countdown, parseTime } from '../lib/format.js';
import { kindText } from '../shared/ping-kinds.js';
import { resultsChart } from './results-chart.js';

/** elements: {list, empty, closedSection (details), closedList, closedCount} */
export function createResultsView(elements, { call, notices, clock, results, canClose }) {
  const cards = new Map(); // ping_id -> {node, chart, answered, timer, close, shown}

  async function closePing(pingId, button) {
    button.disabled = true;
    const ack = await call('ping:close', { ping_id: pingId });
    if (notices.failed(ack, 'Could not close the ping')) {
      button.disabled = false;
      return;
    }
    results.apply({ ...(ack.results ?? {}), ping_id: pingId, closed: true });
    notices.announce('Ping closed.');
    render();
  }

  function build(result) {
    const titleId = `result-${result.ping_id}-q`;
    const card = {
      chart: h('div', { class: 'result-chart' }),
      answered: h('p', { class: 'result-answered' }),
      timer: h('p', { class: 'result-timer' }),
      title: h('h3', { id: titleId, class: 'result-question' }),
      close: h('button', { type: 'button', class: 'button button-small', text: 'Close ping' }),
      shown: null,
    };
    card.close.addEventListener('click', () => closePing(result.ping_id, card.close));
    card.node = h('article', { class: 'card result-card', 'aria-labelledby': titleId }, [
      h('div', { class: 'result-head' }, [
        h('p', { class: 'ping-kind', text: kindText(result.kind) }),
        card.close,
      ]),
      card.title,
      card.answered,
      card.chart,
      card.timer,
    ]);
    return card;
  }

  function update(card, result) {
    setText(card.title, result.question ?? '');
    const total = typeof result.total === 'number' ? ` of ${result.total}` : '';
    setText(card.answered, `${result.answered ?? 0}${total} answered`);
    if (card.shown !== result) {
      card.chart.replaceChildren(resultsChart(result));
      card.shown = result;
    }
    show(card.close, !result.closed && canClose());
    card.node.dataset.closed = String(Boolean(result.closed));
  }

  function render() {
    const list = results.list();
    const open = [];
    const closed = [];
    for (const result of list) {
      let card = cards.get(result.ping_id);
      if (!card) {
        card = build(result);
        cards.set(result.ping_id, card);
      }
      update(card, result);
      (result.closed ? closed : open).push(card.node);
    }
    const kept = new Set(list.map((r) => r.ping_id));
    for (const id of cards.keys()) if (!kept.has(id)) cards.delete(id);
    reorder(elements.list, open);
    reorder(elements.closedList, closed);
    show(elements.empty, open.length === 0);
    setText(elements.empty, closed.length ? 'No ping is open.' : 'No pings yet.');
    show(elements.closedSection, closed.length > 0);
    setText(elements.closedCount, String(closed.length));
    tick();
  }

  function tick() {
    const now = clock.now();
    for (const [pingId, card] of cards) {
      const result = results.get(pingId);
      if (!result) continue;
      const closes = parseTime(result.closes_at);
      if (result.closed) setText(card.timer, 'Closed');
      else if (closes !== null) setText(card.timer, closes > now ? `Closes in ${countdown(closes - now)}` : 'Closing…');
    }
  }

  return { render, tick };
}
