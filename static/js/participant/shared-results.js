/**
 * Results the instructor shared with the class (`ping:shared`): the closed ping's question and its
 * numbers in the same chart and kind labels as the dashboard, until the participant hides them.
 */

import { h, reorder } from '../lib/dom.js';
import { kindText } from '../shared/ping-kinds.js';
import { resultsChart } from '../shared/results-chart.js';

/** elements: {list, heading (focused when a card is hidden, so focus is not lost)} */
export function createSharedResults(elements, { notices, pings }) {
  const cards = new Map(); // ping_id -> {node, results}

  function build(results) {
    const titleId = `shared-${results.ping_id}-q`;
    const total = typeof results.total === 'number' ? ` of ${results.total}` : '';
    const hide = h('button', { type: 'button', class: 'button button-small button-quiet', text: 'Hide results' });
    hide.addEventListener('click', () => {
      pings.hideShared(results.ping_id);
      render();
      elements.heading?.focus();
    });
    const node = h('article', { class: 'card result-card shared-card', 'aria-labelledby': titleId }, [
      h('div', { class: 'result-head' }, [h('p', { class: 'ping-kind', text: `${kindText(results.kind)} · results` }), hide]),
      h('h3', { id: titleId, class: 'result-question', text: results.question ?? '' }),
      h('p', { class: 'result-answered', text: `${results.answered ?? 0}${total} answered` }),
      resultsChart(results),
    ]);
    return { node, results };
  }

  function render() {
    const nodes = pings.sharedList().map((results) => {
      let card = cards.get(results.ping_id);
      if (!card || card.results !== results) {
        const fresh = !card;
        card = build(results);
        cards.set(results.ping_id, card);
        if (fresh) notices.announce(`The instructor shared the results: ${results.question ?? ''}`);
      }
      return card.node;
    });
    const kept = new Set(pings.sharedList().map((r) => r.ping_id));
    for (const id of cards.keys()) if (!kept.has(id)) cards.delete(id);
    reorder(elements.list, nodes);
  }

  return { render };
}
