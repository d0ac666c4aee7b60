/**
 * One person's connection times, shown under the roster when their name is pressed: "Joined 09:02 ·
 * dropped 09:20 · back 09:24 · online now" and the time connected in all. Outside the windowed table,
 * so its rows keep one fixed height; kept up to date by presence events while open.
 */

import { setText, show } from '../lib/dom.js';
import { clockTime, duration } from '../lib/format.js';
import { connectedMs, presenceStory } from './presence-history.js';

/** elements: {section, title, story, total, close} */
export function createRosterDetail(elements, { roster, history, clock, onChange }) {
  let chosen = null; // participant_id shown, or null

  function render() {
    const row = chosen === null ? null : roster.get(chosen);
    show(elements.section, row !== null && row !== undefined);
    if (!row) return;
    const intervals = history.intervals(chosen);
    setText(elements.title, `Connection times of ${row.name}`);
    setText(elements.story, history.loaded || intervals.length ? presenceStory(intervals, clockTime) : 'Loading…');
    const total = connectedMs(intervals, clock.now());
    setText(elements.total, intervals.length ? `Connected for ${duration(total)} in all.` : '');
  }

  function choose(participantId) {
    chosen = chosen === participantId ? null : participantId;
    render();
    onChange();
    if (chosen !== null) {
      elements.section.scrollIntoView({ block: 'nearest' });
      elements.title.focus({ preventScroll: true });
    }
  }

  elements.close.addEventListener('click', () => {
    // Back to the name that opened it (when its row is still drawn).
    const opener = document.querySelector(`[aria-controls="${elements.section.id}"][aria-expanded="true"]`);
    chosen = null;
    render();
    onChange();
    opener?.focus();
  });

  return { render, choose, selected: () => chosen };
}
