/**
 * The platform picker: one radio per platform of GET /api/platforms, each described by its capacity and
 * features, and a note on each that would not fit what the form asks for (features, participants).
 */

import { h, setText } from '../lib/dom.js';
import { platformMisfit, platformSummary } from './features.js';

/** Draw the radios into `root` (the fieldset's list): "Not decided yet" first, then each platform. */
export function renderPlatforms(root, platforms) {
  const none = { id: '', name: 'Not decided yet', summary: 'no capacity or feature check' };
  root.replaceChildren(
    ...[none, ...platforms].map((p) => {
      const id = `platform-${p.id || 'none'}`;
      return h('div', { class: 'choice platform-choice', 'data-platform': p.id }, [
        h('input', {
          id,
          type: 'radio',
          name: 'platform',
          value: p.id,
          checked: p.id === '',
          'aria-describedby': `${id}-about ${id}-misfit`,
        }),
        h('div', { class: 'platform-text' }, [
          h('label', { for: id, class: 'platform-name', text: p.name }),
          h('span', { id: `${id}-about`, class: 'platform-about', text: p.summary || platformSummary(p) }),
          h('span', { id: `${id}-misfit`, class: 'platform-misfit' }),
        ]),
      ]);
    }),
  );
}

/** Say beside each platform what would stop it holding this session (the server has the last word). */
export function markMisfits(root, platforms, required, expected) {
  for (const p of platforms) {
    const note = root.querySelector(`[data-platform="${CSS.escape(p.id)}"] .platform-misfit`);
    if (note) setText(note, platformMisfit(p, required, expected).map((m) => `Would not fit: ${m}.`).join(' '));
  }
  const undecided = root.querySelector('[data-platform=""] .platform-misfit');
  if (undecided) setText(undecided, required.length ? 'Would not fit: required features need a platform.' : '');
}

/** The chosen platform's id, or null when not decided. */
export function chosenPlatform(root) {
  const checked = root.querySelector('input[name="platform"]:checked');
  return checked && checked.value ? checked.value : null;
}

/** Choose a platform by id (null: not decided). */
export function choosePlatform(root, id) {
  const input = root.querySelector(`input[name="platform"][value="${CSS.escape(id || '')}"]`);
  if (input) input.checked = true;
}
