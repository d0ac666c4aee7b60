/**
 * Live ping results: the open pings as full cards (chart, how many answered, Close), and the closed
 * ones folded away under "Closed pings", newest first. A closed ping's results can be shared with the
 * participants (ping:share), from its card or from the "just closed" line that stands in for the
 * current ping until the next one opens.
 */

import { h, reorder, setText, show } from '../lib/dom.js';
import { clockTime, countdown, parseTime } from '../lib/format.js';
import { kindText } from '../shared/ping-kinds.js';
import { resultsChart } from '../shared/results-chart.js';

/** What a share did, in words ("Shared with the participants at 09:24."). */
function sharedText(result) {
  return result.shared_at ? `Shared with the participants at ${clockTime(result.shared_at)}.` : '';
}

/**
 * elements: {list, empty, closedSection (details), closedList, closedCount,
 *            justClosed (the line for the latest closed ping), justClosedText, justClosedShare, justClosedShared}
 */
export function createResultsView(elements, { call, notices, clock, results, canClose }) {
  const cards = new Map(); // ping_id -> {node, chart, answered, timer, close, share, shared, shown}
  let latestClosed = null; // the ping the "just closed" line is about

  /** Send a closed ping's results to the participants; the confirmation shows where it was asked. */
  async function sharePing(pingId, button) {
    button.disabled = true;
    const ack = await call('ping:share', { ping_id: pingId });
    button.disabled = false;
    if (notices.failed(ack, 'Could not share the results')) return;
    results.apply({ ping_id: pingId, shared_at: clock.now() });
    notices.announce('Results shared with the participants.');
    render();
  }

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
      share: h('button', { type: 'button', class: 'button button-small', text: 'Share results' }),
      shared: h('p', { class: 'result-shared' }),
      shown: null,
    };
    card.close.addEventListener('click', () => closePing(result.ping_id, card.close));
    card.share.addEventListener('click', () => sharePing(result.ping_id, card.share));
    card.node = h('article', { class: 'card result-card', 'aria-labelledby': titleId }, [
      h('div', { class: 'result-head' }, [
        h('p', { class: 'ping-kind', text: kindText(result.kind) }),
        card.close,
        card.share,
      ]),
      card.title,
      card.answered,
      card.chart,
      card.timer,
      card.shared,
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
    show(card.share, Boolean(result.closed) && canClose());
    setText(card.share, result.shared_at ? 'Share again' : 'Share results');
    setText(card.shared, sharedText(result));
    show(card.shared, Boolean(result.shared_at));
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
    renderJustClosed(list, open.length);
    tick();
  }

  /** With no ping open, the newest one (closed) keeps a line with its numbers and Share results. */
  function renderJustClosed(list, openCount) {
    const latest = openCount === 0 && list[0]?.closed ? list[0] : null;
    latestClosed = latest;
    show(elements.justClosed, latest !== null);
    if (!latest) return;
    const total = typeof latest.total === 'number' ? ` of ${latest.total}` : '';
    setText(elements.justClosedText, `Just closed: ${latest.question ?? ''} (${latest.answered ?? 0}${total} answered)`);
    show(elements.justClosedShare, canClose());
    setText(elements.justClosedShare, latest.shared_at ? 'Share again' : 'Share results');
    setText(elements.justClosedShared, sharedText(latest));
    show(elements.justClosedShared, Boolean(latest.shared_at));
  }
  elements.justClosedShare.addEventListener('click', () => {
    if (latestClosed) sharePing(latestClosed.ping_id, elements.justClosedShare);
  });

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
