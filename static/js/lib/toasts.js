/**
 * Notices of something new (a help request, a lost pulse, a mention, a drop-out): a stack of small
 * cards in a polite live region, never modal, each dismissable; they go by themselves after a while
 * only when the page is in view, so a notice raised behind the video call waits for the instructor.
 */

import { h } from './dom.js';

const LINGER_MS = 45_000;
const MAX_SHOWN = 4; // older ones make room: a burst must not cover the page

const KIND_TITLE = { help: 'Help', lost: 'Pulse', mention: 'Chat', drop: 'Presence' };

/** region: the live region; onChange(count) after each change. */
export function createToasts(region, { onChange = () => {} } = {}) {
  const shown = new Map(); // key -> node

  function remove(key) {
    const node = shown.get(key);
    if (!node) return;
    node.remove();
    shown.delete(key);
    onChange(shown.size);
  }

  function expireLater(key) {
    setTimeout(function expire() {
      if (!shown.has(key)) return;
      if (document.visibilityState === 'visible') remove(key);
      else setTimeout(expire, LINGER_MS);
    }, LINGER_MS);
  }

  let serial = 0;
  function push(notice) {
    serial += 1;
    const key = notice.key ?? `n${serial}`;
    if (shown.has(key)) return;
    const title = KIND_TITLE[notice.kind] ?? 'New';
    const node = h('li', { class: 'toast', 'data-kind': notice.kind ?? 'info' }, [
      h('p', { class: 'toast-text' }, [h('strong', { class: 'toast-title', text: `${title}: ` }), notice.text]),
      h('button', {
        type: 'button', class: 'toast-dismiss', 'aria-label': `Dismiss: ${notice.text}`, text: '×',
        onclick: () => remove(key),
      }),
    ]);
    region.append(node);
    shown.set(key, node);
    while (shown.size > MAX_SHOWN) remove(shown.keys().next().value);
    expireLater(key);
    onChange(shown.size);
  }

  return { push, count: () => shown.size, remove };
}
