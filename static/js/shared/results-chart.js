/**
 * A ping's tally as a bar chart made of divs, on the staff cards and in the results shared with
 * participants. Each row also says its numbers in words, so the bars themselves are decoration for
 * screen readers. Bar lengths go through a CSS custom property set with
 * the CSSOM, which a strict style-src Content-Security-Policy allows (no style attribute is parsed).
 */

import { h } from '../lib/dom.js';
import { PULSE_TEXT, RATINGS } from '../shared/ping-kinds.js';

function percent(count, of) {
  return of > 0 ? Math.round((100 * count) / of) : 0;
}

function bar(label, count, of, tone) {
  const fill = h('div', { class: `bar-fill${tone ? ` bar-${tone}` : ''}` });
  fill.style.setProperty('--share', String(of > 0 ? Math.min(1, count / of) : 0));
  return h('li', { class: 'bar-row' }, [
    h('span', { class: 'bar-label', text: label }),
    h('div', { class: 'bar-track', 'aria-hidden': 'true' }, [fill]),
    h('span', { class: 'bar-count', text: `${count} (${percent(count, of)}%)` }),
  ]);
}

/** Rows of [label, count, tone?] as a chart relative to `of`. */
function bars(rows, of) {
  return h('ol', { class: 'bars' }, rows.map(([label, count, tone]) => bar(label, count, of, tone)));
}

/** The chart for one ping's results. */
export function resultsChart(result) {
  const tally = result.tally;
  const answered = result.answered ?? 0;
  if (tally === null || tally === undefined) return h('p', { class: 'empty', text: 'No answers yet.' });
  switch (result.kind) {
    case 'poll': {
      const options = result.options ?? [];
      return bars(tally.map((count, i) => [options[i] ?? `Option ${i + 1}`, count]), answered);
    }
    case 'pulse':
      return bars([[PULSE_TEXT.ok, tally.ok ?? 0, 'good'], [PULSE_TEXT.lost, tally.lost ?? 0, 'bad']], answered);
    case 'rating':
      return h('div', {}, [
        bars(RATINGS.map((n) => [String(n), tally[String(n)] ?? 0]), answered),
        h('p', { class: 'rating-mean', text: tally.mean === null || tally.mean === undefined ? 'Mean: —' : `Mean: ${tally.mean} / 5` }),
      ]);
    case 'text': {
      const answers = tally.answers ?? [];
      if (answers.length === 0) return h('p', { class: 'empty', text: 'No answers yet.' });
      return h('ul', { class: 'text-answers' }, answers.map((text) => h('li', { text })));
    }
    case 'attention': {
      const here = tally.yes ?? 0;
      const of = result.total ?? answered;
      return h('div', {}, [
        bars([['Here', here, 'good']], Math.max(of, here)),
        h('p', { class: 'rating-mean', text: `${here} here` }),
      ]);
    }
    default:
      return h('p', { text: `${answered} answers` });
  }
}
