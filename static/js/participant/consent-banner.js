/**
 * "This session is being recorded": a banner at the top of every tab (the companion tab, the
 * dashboard, the support console) while the recording is on.
 *
 * The banner is a live region (role=status) that stays in the page, empty while not recording, so a
 * screen reader announces the sentence once when it appears; a render that changes nothing sets
 * nothing, so it is never repeated. Stopping is announced through the page's polite announcer.
 */

import { h, setText } from '../lib/dom.js';

export const RECORDING_TEXT = 'This session is being recorded';

/** root: the banner element (made and put after the page's top bar when none is given). */
export function createRecordingBanner(root, { notices } = {}) {
  const node = root ?? makeRoot();
  const text = h('span', { class: 'recording-banner-text' });
  node.replaceChildren(h('span', { class: 'recording-dot', 'aria-hidden': 'true' }), text);
  let shown = null;

  function render(recording) {
    const on = recording === true;
    if (on === shown) return;
    const wasOn = shown === true;
    shown = on;
    node.dataset.recording = String(on);
    setText(text, on ? RECORDING_TEXT : '');
    if (wasOn && !on && notices) notices.announce('The recording has stopped.');
  }

  return { render, node };
}

function makeRoot() {
  const node = h('div', { id: 'recording-banner', class: 'recording-banner', role: 'status', 'data-recording': 'false' });
  const top = document.querySelector('header.topbar');
  if (top) top.after(node);
  else document.body.prepend(node);
  return node;
}
